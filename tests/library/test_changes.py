"""Changing a case after it is written: attachments and links removed, the secretariat
unpublishes any city's case, every change audited; a renamed city's cases are found by the new
name; the list's queries do not grow with its cases."""

from __future__ import annotations

import io
from datetime import date

from sqlalchemy import select

from cacnet.core.audit import AuditEvent
from cacnet.core.db import db
from cacnet.library.models import CaseAttachment, CaseLink, LibraryCase
from tests.conftest import csrf_token, login, submit
from tests.helpers import pdf_bytes
from tests.library.test_journey import _case_form


def _actions(case_id: int) -> list[str]:
    return list(
        db.session.scalars(
            select(AuditEvent.action)
            .where(AuditEvent.object_type == "library_cases", AuditEvent.object_id == case_id)
            .order_by(AuditEvent.id)
        )
    )


def test_attachments_and_links_are_removed_and_every_change_is_audited(
    app, client, network, make_case
):
    case_id = make_case(network["Seoul"]["delegate"], publish=False)
    login(client, network["Seoul"]["delegate"])
    url = f"/library/{case_id}/attachments"
    token = csrf_token(client.get(url).get_data(as_text=True))
    client.post(url, data={"csrf_token": token, "file": (io.BytesIO(pdf_bytes()), "a.pdf")},
                content_type="multipart/form-data")  # fmt: skip
    submit(client, f"/library/{case_id}/links",
           {"link-title": "Report", "link-url": "https://example.org/report"}, page=url)  # fmt: skip
    with app.app_context():
        attachment_id = db.session.scalar(select(CaseAttachment.id))
        link_id = db.session.scalar(select(CaseLink.id))
    assert submit(client, f"/library/{case_id}/attachments/{attachment_id}/remove", {},
                  page=url).status_code == 302  # fmt: skip
    assert submit(client, f"/library/{case_id}/links/{link_id}/remove", {},
                  page=url).status_code == 302  # fmt: skip
    response = submit(client, f"/library/{case_id}/edit",
                      _case_form(network["areas"], title_en="Walk-in booths, second version"))  # fmt: skip
    assert response.status_code == 302
    assert submit(client, f"/library/{case_id}/publish", {},
                  page=f"/library/{case_id}").status_code == 302  # fmt: skip
    # the removed attachment is no longer served
    assert client.get(f"/library/{case_id}/attachments/{attachment_id}").status_code == 404
    with app.app_context():
        assert db.session.scalar(select(CaseAttachment.id)) is None
        assert db.session.scalar(select(CaseLink.id)) is None
        case = db.session.get(LibraryCase, case_id)
        assert case.title_en == "Walk-in booths, second version"
        assert "second version" in case.search_text
        assert _actions(case_id) == [
            "library_case_created", "library_attachment_added", "library_link_added",
            "library_attachment_removed", "library_link_removed", "library_case_changed",
            "library_case_published",
        ]  # fmt: skip


def test_the_secretariat_unpublishes_any_case(app, client, network, make_case):
    case_id = make_case(network["Hanoi"]["delegate"])
    login(client, network["secretariat"])
    assert submit(client, f"/library/{case_id}/unpublish", {},
                  page=f"/library/{case_id}").status_code == 302  # fmt: skip
    with app.app_context():
        case = db.session.get(LibraryCase, case_id)
        assert case.state.value == "draft" and case.published_at is None
        assert _actions(case_id)[-1] == "library_case_unpublished"
    # unpublishing twice is a clear refusal, not an error page
    response = submit(client, f"/library/{case_id}/unpublish", {}, page=f"/library/{case_id}")
    assert response.status_code == 302
    assert "This case is not published." in client.get(f"/library/{case_id}").get_data(as_text=True)


def test_another_delegate_cannot_unpublish_or_remove(app, client, network, make_case):
    case_id = make_case(network["Seoul"]["delegate"])
    login(client, network["Hanoi"]["admin"])
    response = submit(client, f"/library/{case_id}/unpublish", {}, page=f"/library/{case_id}")
    assert response.status_code == 403
    with app.app_context():
        assert db.session.get(LibraryCase, case_id).state.value == "published"


def test_a_renamed_city_is_found_by_its_new_name(app, client, network, make_case):
    case_id = make_case(network["Hanoi"]["delegate"], title_en="Rice ATMs")
    with app.app_context():
        from cacnet.cities.models import City

        db.session.get(City, network["Hanoi"]["city_id"]).name_local = "Hà Nội"
        db.session.commit()
    page = client.get("/library/?q=ha+noi").get_data(as_text=True)
    assert f'href="/library/{case_id}"' in page


def test_the_list_does_not_query_per_case(app, network, make_case, count_queries):
    for n in range(3):
        make_case(
            network["Seoul"]["delegate"], title_en=f"Case {n}", started_on=date(2020, 3, n + 1)
        )
    few = count_queries(app.test_client(), "/library/")
    for n in range(3, 12):
        make_case(
            network["Hanoi"]["delegate"], title_en=f"Case {n}", started_on=date(2020, 3, n + 1)
        )
    assert count_queries(app.test_client(), "/library/") == few
