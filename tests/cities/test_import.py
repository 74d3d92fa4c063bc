"""The secretariat imports a CSV list of cities: the file is checked, a preview shows what would
change, and only a confirmation writes it, all at once. The worker runs inline here
(CITY_IMPORT_SYNC), except in the tests that run the real background thread."""

from __future__ import annotations

import io
import re
import shutil
from pathlib import Path

import pytest
from sqlalchemy import func, select

from cacnet.accounts.models import User
from cacnet.cities import imports
from cacnet.cities.imports import CityImport, ImportState
from cacnet.cities.models import City
from cacnet.core.audit import AuditEvent
from cacnet.core.db import db
from cacnet.membership.models import Membership, MembershipState
from tests.conftest import PASSWORD, csrf_token, login

HEADER = "name,country,population,latitude,longitude,website"
UPLOAD = "/secretariat/cities/import"


@pytest.fixture(autouse=True)
def inline_worker(app, monkeypatch):
    monkeypatch.setitem(app.config, "CITY_IMPORT_SYNC", True)
    shutil.rmtree(Path(app.instance_path) / "imports", ignore_errors=True)
    yield
    shutil.rmtree(Path(app.instance_path) / "imports", ignore_errors=True)


@pytest.fixture
def officer(client, secretariat):
    assert login(client, secretariat).status_code == 302
    return client


def csv_bytes(*rows: str, header: str = HEADER, bom: bool = False) -> bytes:
    text = "\r\n".join([header, *rows]) + "\r\n"
    return (b"\xef\xbb\xbf" if bom else b"") + text.encode("utf-8")


def upload(client, content: bytes, filename: str = "cities.csv"):
    token = csrf_token(client.get(UPLOAD).get_data(as_text=True))
    return client.post(
        UPLOAD,
        data={"csrf_token": token, "file": (io.BytesIO(content), filename)},
        content_type="multipart/form-data",
    )


def uuid_of(response) -> str:
    assert response.status_code == 302, response.get_data(as_text=True)[-2000:]
    match = re.fullmatch(
        r"/secretariat/cities/import/([0-9a-f-]{36})", response.headers["Location"]
    )
    assert match, response.headers["Location"]
    return match.group(1)


def post_button(client, uuid: str, action: str):
    page = client.get(f"{UPLOAD}/{uuid}").get_data(as_text=True)
    return client.post(f"{UPLOAD}/{uuid}/{action}", data={"csrf_token": csrf_token(page)})


def status_of(client, uuid: str) -> dict:
    response = client.get(f"{UPLOAD}/{uuid}/status.json")
    assert response.status_code == 200
    assert response.headers["Cache-Control"] == "no-store"
    return response.get_json()


def city_count(app) -> int:
    with app.app_context():
        return db.session.scalar(select(func.count()).select_from(City))


def import_files(app) -> list[Path]:
    folder = Path(app.instance_path) / "imports"
    return sorted(folder.glob("*")) if folder.exists() else []


def nothing_written(app, cities_before: int) -> None:
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(City)) == cities_before
        actions = set(db.session.scalars(select(AuditEvent.action)))
        assert not actions & {"city_created", "city_profile_updated", "cities_imported"}


def queue_application(app, name: str, country: str) -> None:
    """Someone applies for ``name``; the application waits in the secretariat's queue."""
    from cacnet.accounts import services as accounts
    from cacnet.core.db import utcnow
    from cacnet.membership import services as membership

    with app.test_request_context():
        applicant = accounts.register_applicant(
            f"{name.lower()}@apply.example",
            name="Applicant",
            title="",
            password=PASSWORD,
            locale="en",
        )
        applicant.email_verified_at = utcnow()
        data = membership.ApplicationData(name, "", country, "", 1000, "")
        assert membership.submit_application(data, applicant, "en").state == "submitted"
        db.session.commit()


# --- the journey -------------------------------------------------------------------------------


def test_a_good_file_creates_and_updates_cities_after_the_preview(app, officer, create_member_city):
    seoul_id, _ = create_member_city("Seoul", "KR")
    header = HEADER + ",name_local,region"
    content = csv_bytes(
        "Seoul,KR,9411000,37.5665,126.978,https://www.seoul.go.kr,서울특별시,",
        'Busan,KOR,"3,400,000",35.1796,129.0756,https://www.busan.go.kr,부산광역시,',
        "São Paulo,Brazil,12330000,-23.5505,-46.6333,https://www.capital.sp.gov.br,,São Paulo",
        "Lyon,fr,,,,,,Auvergne-Rhône-Alpes",
        header=header,
        bom=True,  # Excel's "CSV UTF-8" starts with a byte-order mark
    )
    uuid = uuid_of(upload(officer, content, "alliance.csv"))

    page = officer.get(f"{UPLOAD}/{uuid}").get_data(as_text=True)
    assert "3 new cities" in page and "1 city updated" in page and "0 rows with errors" in page
    assert "Busan" in page and "São Paulo" in page and "Lyon" in page
    assert "1,000,000 → <strong>9,411,000</strong>" in page  # Seoul: old → new
    assert status_of(officer, uuid)["state"] == "ready"
    assert city_count(app) == 1  # nothing written before the confirmation

    assert post_button(officer, uuid, "confirm").status_code == 302
    status = status_of(officer, uuid)
    assert status["state"] == "done" and not status["running"]
    assert status["processed"] == status["total"] == 4
    page = officer.get(f"{UPLOAD}/{uuid}").get_data(as_text=True)
    assert "The import is done" in page and "3 new cities" in page
    assert import_files(app) == []  # the rows file goes when the import is done

    with app.app_context():
        officer_id = db.session.scalar(select(User.id).where(User.role == "secretariat"))
        seoul = db.session.get(City, seoul_id)
        assert (seoul.population, seoul.latitude, seoul.longitude) == (9411000, 37.5665, 126.978)
        assert (seoul.website, seoul.name_local) == ("https://www.seoul.go.kr", "서울특별시")
        busan = db.session.scalar(select(City).where(City.slug == "busan-kr"))
        assert (busan.name_en, busan.country_code, busan.population) == ("Busan", "KR", 3400000)
        assert (busan.latitude, busan.longitude) == (35.1796, 129.0756)
        sao_paulo = db.session.scalar(select(City).where(City.slug == "sao-paulo-br"))
        assert (sao_paulo.name_en, sao_paulo.region) == ("São Paulo", "São Paulo")
        lyon = db.session.scalar(select(City).where(City.slug == "lyon-fr"))
        assert (lyon.population, lyon.latitude, lyon.website) == (None, None, "")

        for city in (busan, sao_paulo, lyon):  # new cities are current members
            membership = city.active_membership
            assert membership.state == MembershipState.APPROVED
            assert membership.applicant_id == membership.decided_by_id == officer_id
            assert membership.submitted_at is not None and membership.decided_at is not None
        assert seoul.active_membership.applicant_id != officer_id  # the old one, untouched

        def events(action):
            return db.session.scalars(
                select(AuditEvent).where(AuditEvent.action == action).order_by(AuditEvent.id)
            ).all()

        created = events("city_created")
        assert {e.object_id for e in created} == {busan.id, sao_paulo.id, lyon.id}
        assert all(e.actor_id == officer_id and e.details["import"] == uuid for e in created)
        assert created[0].details["new"]["population"] == 3400000
        (updated,) = [e for e in events("city_profile_updated") if e.object_id == seoul_id]
        assert updated.details["changes"]["population"] == {"old": 1000000, "new": 9411000}
        assert updated.details["changes"]["name_local"] == {"old": "", "new": "서울특별시"}
        (imported,) = events("cities_imported")
        assert imported.object_type == "city_imports" and imported.actor_id == officer_id
        assert imported.details["created"] == 3 and imported.details["updated"] == 1
        assert len(events("membership_recorded")) == 3


def test_importing_the_same_file_again_changes_nothing(app, officer):
    content = csv_bytes("Busan,KR,3400000,35.1796,129.0756,https://www.busan.go.kr")
    uuid = uuid_of(upload(officer, content))
    post_button(officer, uuid, "confirm")
    again = uuid_of(upload(officer, content))
    page = officer.get(f"{UPLOAD}/{again}").get_data(as_text=True)
    assert "1 city unchanged" in page and "This file changes nothing" in page
    response = post_button(officer, again, "confirm")
    assert "changes nothing" in officer.get(response.headers["Location"]).get_data(as_text=True)
    assert city_count(app) == 1


def test_preview_then_cancel_writes_nothing(app, officer, create_member_city):
    create_member_city("Seoul", "KR")
    content = csv_bytes(
        "Seoul,KR,9411000,37.5665,126.978,https://www.seoul.go.kr",
        "Busan,KR,3400000,35.1796,129.0756,https://www.busan.go.kr",
    )
    uuid = uuid_of(upload(officer, content))
    assert len(import_files(app)) == 1

    response = post_button(officer, uuid, "cancel")
    assert response.headers["Location"] == UPLOAD
    assert "Nothing was written" in officer.get(UPLOAD).get_data(as_text=True)
    assert status_of(officer, uuid)["state"] == "cancelled"
    assert import_files(app) == []
    nothing_written(app, cities_before=1)
    with app.app_context():
        assert db.session.scalar(select(City.population).where(City.slug == "seoul-kr")) == 1000000
    # A cancelled import cannot be confirmed afterwards.
    response = officer.post(
        f"{UPLOAD}/{uuid}/confirm",
        data={"csrf_token": csrf_token(officer.get(UPLOAD).get_data(as_text=True))},
        follow_redirects=True,
    )
    assert "not waiting for confirmation" in response.get_data(as_text=True)
    nothing_written(app, cities_before=1)


# --- files refused as a whole --------------------------------------------------------------------


def _hundred_thousand_rows() -> bytes:
    rows = [f"T{n},KR,{n},37.5,127," for n in range(100_000)]
    return csv_bytes(*rows)


BAD_FILES = {
    "wrong columns": (
        csv_bytes("Busan,KR,3400000,https://busan.go.kr", header="city,country,population,url"),
        [
            "Missing columns: name, latitude, longitude, website.",
            "Unknown columns: city, url.",
        ],
    ),
    "latin-1": (
        "name,country,population,latitude,longitude,website\r\n"
        "São Paulo,BR,12330000,-23.55,-46.63,https://www.capital.sp.gov.br\r\n".encode("latin-1"),
        ["The file is not in UTF-8", "on line 2"],
    ),
    "binary": (
        b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(range(256)) * 8,
        ["This is not a CSV text file."],
    ),
    "100,000 rows": (_hundred_thousand_rows(), ["The file has more than 20,000 rows."]),
    "over 5 MB": (
        csv_bytes(*[f"Town {n},KR,1,1,1,https://{'x' * 5000}.example" for n in range(1100)]),
        ["The file is larger than 5 MB."],
    ),
    "empty": (b"", ["The file is empty."]),
    "header only": (csv_bytes(), ["The file has a header row but no cities."]),
}


@pytest.mark.parametrize("kind", BAD_FILES)
def test_a_bad_file_is_refused_with_a_clear_message_and_nothing_is_written(app, officer, kind):
    content, messages = BAD_FILES[kind]
    if kind == "100,000 rows":
        assert len(content) < imports.MAX_IMPORT_BYTES  # refused for its rows, not its size
    response = upload(officer, content)
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    for message in messages:
        assert message in page, kind
    nothing_written(app, cities_before=0)
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(CityImport)) == 0
    assert import_files(app) == []


# --- rows refused ------------------------------------------------------------------------------

BAD_ROWS = {
    "country XX": (
        "Atlantis,XX,1000,10,10,https://atlantis.example",
        "country",
        "Unknown country “XX”",
    ),
    "latitude 95": (
        "Busan,KR,3400000,95,129.0756,https://www.busan.go.kr",
        "latitude",
        "Latitude is between -90 and 90.",
    ),
    "population -1": (
        "Busan,KR,-1,35.1796,129.0756,https://www.busan.go.kr",
        "population",
        "Enter a population between 0 and 100 million.",
    ),
    "javascript website": (
        "Busan,KR,3400000,35.1796,129.0756,javascript:alert(1)",
        "website",
        "Enter a web address starting with http:// or https://.",
    ),
    "population not a number": (
        "Busan,KR,many,35.1796,129.0756,https://www.busan.go.kr",
        "population",
        "Enter a whole number.",
    ),
    "no name": (",KR,1000,35.1,129.0,https://www.busan.go.kr", "name", "This field is required."),
    "markup in the name": (
        "<b>Busan</b>,KR,1000,35.1,129.0,https://www.busan.go.kr",
        "name",
        "Use plain text",
    ),
    "one coordinate": (
        "Busan,KR,1000,35.1,,https://www.busan.go.kr",
        "latitude",
        "Give both latitude and longitude, or neither.",
    ),
}


@pytest.mark.parametrize("kind", BAD_ROWS)
def test_a_bad_row_is_reported_with_its_row_and_column_and_nothing_is_written(app, officer, kind):
    row, column, message = BAD_ROWS[kind]
    content = csv_bytes("Lyon,FR,522000,45.764,4.8357,https://www.lyon.fr", row)
    uuid = uuid_of(upload(officer, content))
    page = officer.get(f"{UPLOAD}/{uuid}").get_data(as_text=True)
    assert "1 row with errors" in page
    errors = page[page.index("Rows with errors") :]
    rows = re.findall(r"<tr>(.*?)</tr>", errors, re.S)
    assert any(
        '<td class="number">3</td>' in r and f"<code>{column}</code>" in r and message in r
        for r in rows
    ), rows
    assert "Write these changes" not in page  # no confirm button while errors remain

    response = officer.post(
        f"{UPLOAD}/{uuid}/confirm", data={"csrf_token": csrf_token(page)}, follow_redirects=True
    )
    assert "Some rows have errors" in response.get_data(as_text=True)
    assert status_of(officer, uuid)["state"] == "ready"
    nothing_written(app, cities_before=0)


def test_every_problem_of_a_row_is_reported_not_just_the_first(app, officer):
    content = csv_bytes("Atlantis,XX,-1,95,10,javascript:alert(1)")
    uuid = uuid_of(upload(officer, content))
    with app.app_context():
        job = imports.get_import(uuid)
        (entry,) = imports.preview(job)["error"]
    assert [e["column"] for e in entry["errors"]] == [
        "country",
        "population",
        "latitude",
        "website",
    ]


def test_a_city_twice_in_the_file_and_a_city_waiting_in_the_queue_are_errors(app, officer):
    queue_application(app, "Lyon", "FR")
    content = csv_bytes(
        "Busan,KR,3400000,35.1796,129.0756,https://www.busan.go.kr",
        "BUSAN,KOR,3400000,35.1796,129.0756,https://www.busan.go.kr",
        "Lyon,FR,522000,45.764,4.8357,https://www.lyon.fr",
    )
    uuid = uuid_of(upload(officer, content))
    page = officer.get(f"{UPLOAD}/{uuid}").get_data(as_text=True)
    assert "Row 2 already lists this city." in page
    assert "An application under this name is waiting in the queue" in page
    assert "2 rows with errors" in page


def test_semicolons_and_decimal_commas_from_a_european_spreadsheet(app, officer):
    content = csv_bytes(
        "Lyon;FR;522000;45,764;4,8357;https://www.lyon.fr", header=HEADER.replace(",", ";")
    )
    uuid = uuid_of(upload(officer, content))
    post_button(officer, uuid, "confirm")
    with app.app_context():
        lyon = db.session.scalar(select(City).where(City.slug == "lyon-fr"))
        assert (lyon.latitude, lyon.longitude) == (45.764, 4.8357)


# --- all or nothing ----------------------------------------------------------------------------


def test_a_failure_while_writing_leaves_nothing_half_applied(app, officer, monkeypatch):
    from cacnet.membership import services as membership

    real = membership.record_membership
    calls = []

    def failing_on_the_third(actor, city):
        calls.append(city.slug)
        if len(calls) == 3:
            raise RuntimeError("the database went away")
        return real(actor, city)

    monkeypatch.setattr(membership, "record_membership", failing_on_the_third)
    rows = [f"Town {n},KR,{n},35.{n},129.{n},https://town{n}.example" for n in range(5)]
    uuid = uuid_of(upload(officer, csv_bytes(*rows)))
    post_button(officer, uuid, "confirm")
    assert len(calls) == 3
    assert status_of(officer, uuid)["state"] == "failed"
    page = officer.get(f"{UPLOAD}/{uuid}").get_data(as_text=True)
    assert "unexpected error" in page and "Nothing was written" in page
    nothing_written(app, cities_before=0)
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(Membership)) == 0
    assert import_files(app) == []


def test_a_city_queued_between_preview_and_confirmation_stops_the_whole_import(app, officer):
    content = csv_bytes(
        "Busan,KR,3400000,35.1796,129.0756,https://www.busan.go.kr",
        "Lyon,FR,522000,45.764,4.8357,https://www.lyon.fr",
    )
    uuid = uuid_of(upload(officer, content))
    queue_application(app, "Lyon", "FR")
    post_button(officer, uuid, "confirm")
    assert status_of(officer, uuid)["state"] == "failed"
    page = officer.get(f"{UPLOAD}/{uuid}").get_data(as_text=True)
    assert "The directory changed since the check: row 3" in page
    nothing_written(app, cities_before=0)


def test_cancelling_while_the_rows_are_checked_stops_the_worker(app, officer, monkeypatch):
    monkeypatch.setattr(imports, "BATCH_ROWS", 2)
    real = imports._parse_batch
    batches = []

    def cancel_during_second_batch(rows):
        batches.append(len(rows))
        if len(batches) == 2:  # another officer presses "Stop" meanwhile, in their own session
            with app.app_context():
                job = db.session.scalar(select(CityImport))
                officer_user = db.session.scalar(select(User).where(User.role == "secretariat"))
                imports.cancel_import(officer_user, job)
                db.session.commit()
        return real(rows)

    monkeypatch.setattr(imports, "_parse_batch", cancel_during_second_batch)
    rows = [f"Town {n},KR,{n},35.1,129.1,https://town{n}.example" for n in range(7)]
    uuid = uuid_of(upload(officer, csv_bytes(*rows)))
    assert batches == [2, 2]  # stopped after the batch in progress
    status = status_of(officer, uuid)
    assert status["state"] == "cancelled" and status["processed"] == 2
    assert import_files(app) == []


# --- the background thread and its progress ----------------------------------------------------


def test_the_worker_thread_reports_progress_until_done(app, officer, monkeypatch):
    monkeypatch.setitem(app.config, "CITY_IMPORT_SYNC", False)
    monkeypatch.setattr(imports, "BATCH_ROWS", 2)
    real = imports._progress
    seen = []

    def recording(job, state, processed):
        seen.append((state.value, processed))
        return real(job, state, processed)

    monkeypatch.setattr(imports, "_progress", recording)
    rows = [f"Town {n},KR,{n},35.1,129.1,https://town{n}.example" for n in range(5)]
    uuid = uuid_of(upload(officer, csv_bytes(*rows)))
    page = officer.get(f"{UPLOAD}/{uuid}").get_data(as_text=True)
    if "<progress" in page:  # still running: the bar, its script and the no-script refresh
        assert 'src="/static/js/import-progress.js"' in page
        assert '<noscript><meta http-equiv="refresh" content="2"></noscript>' in page
    imports.wait_for(uuid)
    status = status_of(officer, uuid)
    assert (status["state"], status["processed"], status["total"]) == ("ready", 5, 5)

    post_button(officer, uuid, "confirm")
    imports.wait_for(uuid)
    status = status_of(officer, uuid)
    assert (status["state"], status["processed"], status["running"]) == ("done", 5, False)
    assert seen == [
        ("validating", 2),
        ("validating", 4),
        ("validating", 5),
        ("applying", 2),
        ("applying", 4),
        ("applying", 5),
    ]
    assert city_count(app) == 5


def test_a_running_import_shows_a_progress_bar_that_polls_and_refreshes_without_script(
    app, officer, monkeypatch
):
    monkeypatch.setattr(imports, "_launch", lambda app, uuid: None)  # the worker has not started
    uuid = uuid_of(upload(officer, csv_bytes("Lyon,FR,522000,45.764,4.8357,https://www.lyon.fr")))
    response = officer.get(f"{UPLOAD}/{uuid}")
    page = response.get_data(as_text=True)
    assert '<progress id="import-progress"' in page and 'max="1" value="0"' in page
    assert f'data-import-status="/secretariat/cities/import/{uuid}/status.json"' in page
    assert '<script src="/static/js/import-progress.js" defer></script>' in page
    assert '<noscript><meta http-equiv="refresh" content="2"></noscript>' in page
    csp = response.headers["Content-Security-Policy"]
    assert "script-src 'self'" in csp and "unsafe-inline" not in csp
    assert " style=" not in page and "<script>" not in page
    assert status_of(officer, uuid) == {
        "state": "validating",
        "running": True,
        "total": 1,
        "processed": 0,
        "saving": False,
        "label": "Checked 0 of 1 rows.",
    }
    assert officer.get("/static/js/import-progress.js").status_code == 200
    # It can be stopped even if its worker died with its process.
    post_button(officer, uuid, "cancel")
    assert status_of(officer, uuid)["state"] == "cancelled"


# --- who may ----------------------------------------------------------------------------------

URLS = [
    ("GET", UPLOAD),
    ("POST", UPLOAD),
    ("GET", UPLOAD + "/{uuid}"),
    ("GET", UPLOAD + "/{uuid}/status.json"),
    ("POST", UPLOAD + "/{uuid}/confirm"),
    ("POST", UPLOAD + "/{uuid}/cancel"),
]


@pytest.fixture
def waiting_import(app, secretariat):
    with app.app_context():
        officer_id = db.session.scalar(select(User.id).where(User.email == secretariat))
        job = CityImport(created_by_id=officer_id, state=ImportState.READY, total_rows=1)
        db.session.add(job)
        db.session.commit()
        return job.uuid


@pytest.mark.parametrize("role", ["anonymous", "delegate", "city_admin"])
def test_only_the_secretariat_may_use_the_import(
    app, client, create_member_city, create_user, waiting_import, role
):
    city_id, admin_email = create_member_city("Seoul", "KR")
    if role == "delegate":
        create_user("delegate@seoul.example", city_id=city_id)
        login(client, "delegate@seoul.example", PASSWORD)
    elif role == "city_admin":
        login(client, admin_email)
    token = csrf_token(
        client.get("/auth/login" if role == "anonymous" else "/").get_data(as_text=True)
    )
    for method, template in URLS:
        url = template.format(uuid=waiting_import)
        if method == "GET":
            response = client.get(url)
        else:
            data = {"csrf_token": token, "file": (io.BytesIO(csv_bytes("A,KR,1,1,1,")), "a.csv")}
            response = client.post(url, data=data, content_type="multipart/form-data")
        where = f"{role} {method} {url}"
        if role == "anonymous":
            assert response.status_code == 302, where
            assert response.headers["Location"].startswith("/auth/login?next="), where
        else:
            assert response.status_code == 403, where
    with app.app_context():
        assert db.session.scalar(select(CityImport.state)) == ImportState.READY
    assert city_count(app) == 1


def test_the_queue_links_to_the_directory_tools(officer):
    page = officer.get("/secretariat/").get_data(as_text=True)
    assert 'href="/secretariat/cities/import">Import cities</a>' in page
    assert 'href="/secretariat/cities/merge">Merge duplicates</a>' in page
