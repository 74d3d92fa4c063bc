"""Who sees which case, for every role, on every way in: the list, the detail, the attachment,
/library.json, the header search's provider and the city page's section.

Seoul has a public case, a members-only case (with an attachment) and a draft. A members-only
case is for the members of the alliance (delegates of approved or suspended member cities, the
secretariat and admins); a draft for its city and the secretariat only."""

from __future__ import annotations

import io

import pytest
from flask_login import AnonymousUserMixin
from sqlalchemy import select

from cacnet.core.db import db
from cacnet.library.models import CaseAttachment
from tests.conftest import login
from tests.helpers import pdf_bytes
from tests.library.conftest import user

# viewer -> (sees the members-only case, sees Seoul's draft)
ROLES = {
    "anonymous": (False, False),
    "seoul delegate": (True, True),
    "hanoi delegate": (True, False),
    "suspended delegate": (True, False),
    "hanoi city admin": (True, False),
    "secretariat": (True, True),
    "admin": (True, True),
}


def _email(network, role):
    return {
        "seoul delegate": network["Seoul"]["delegate"],
        "hanoi delegate": network["Hanoi"]["delegate"],
        "suspended delegate": network["Budapest"]["delegate"],
        "hanoi city admin": network["Hanoi"]["admin"],
        "secretariat": network["secretariat"],
        "admin": network["admin"],
    }.get(role)


@pytest.fixture
def cases(app, network, make_case):
    from cacnet.library import services

    seoul = network["Seoul"]["delegate"]
    found = {
        "public": make_case(seoul, title_en="Public drive-through screening"),
        "members": make_case(seoul, title_en="Members contact tracing", visibility="members"),
        "draft": make_case(seoul, title_en="Draft distance learning", publish=False),
    }
    with app.test_request_context(base_url=app.config["BASE_URL"]):
        from cacnet.library.models import LibraryCase

        case = db.session.get(LibraryCase, found["members"])
        services.add_attachment(user(seoul), case, "tracing.pdf", pdf_bytes())
        found["attachment"] = db.session.scalar(select(CaseAttachment.id))
    return found


@pytest.mark.parametrize("role", list(ROLES))
def test_visibility_matrix(app, network, cases, role):
    sees_members, sees_draft = ROLES[role]
    client = app.test_client()
    email = _email(network, role)
    if email:
        login(client, email)

    listing = client.get("/library/").get_data(as_text=True)
    assert f'href="/library/{cases["public"]}"' in listing
    assert (f'href="/library/{cases["members"]}"' in listing) is sees_members
    assert (f'href="/library/{cases["draft"]}"' in listing) is sees_draft
    if sees_members:
        assert "Members only" in listing

    assert client.get(f"/library/{cases['public']}").status_code == 200
    denied = 302 if role == "anonymous" else 404
    assert client.get(f"/library/{cases['members']}").status_code == (200 if sees_members
                                                                       else denied)  # fmt: skip
    assert client.get(f"/library/{cases['draft']}").status_code == (200 if sees_draft
                                                                     else denied)  # fmt: skip
    download = client.get(f"/library/{cases['members']}/attachments/{cases['attachment']}")
    assert download.status_code == (200 if sees_members else denied)
    if sees_members:
        assert download.headers["Cache-Control"] == "private, no-store"

    exported = {c["id"] for c in client.get("/library.json").get_json()["cases"]}
    assert exported == ({cases["public"], cases["members"]} if sees_members
                        else {cases["public"]})  # fmt: skip

    city_page = client.get("/cities/seoul-kr").get_data(as_text=True)
    assert f'href="/library/{cases["public"]}"' in city_page
    assert (f'href="/library/{cases["members"]}"' in city_page) is sees_members
    assert f'href="/library/{cases["draft"]}"' not in city_page  # drafts are not on the page

    from cacnet.library.search import find

    with app.test_request_context(base_url=app.config["BASE_URL"]):
        viewer = user(email) if email else AnonymousUserMixin()
        hits = {hit.url for hit in find("screening", viewer, 10)}
        assert hits == {f"/library/{cases['public']}"}
        hits = {hit.url for hit in find("tracing", viewer, 10)}
        assert hits == ({f"/library/{cases['members']}"} if sees_members else set())
        assert find("distance", viewer, 10) == []  # a draft is never a search hit


def test_the_search_provider_is_registered_with_its_label(app):
    from cacnet.search.registry import PROVIDERS

    with app.test_request_context():
        assert str(PROVIDERS["case"].label) == "Library cases"


def test_a_suspended_citys_delegate_may_read_but_not_write(app, client, network, cases):
    login(client, network["Budapest"]["delegate"])
    assert client.get(f"/library/{cases['members']}").status_code == 200
    assert client.get("/library/new").status_code == 403


def test_anonymous_is_asked_to_sign_in_to_write(app, client, network):
    response = client.get("/library/new")
    assert response.status_code == 302 and "/auth/login" in response.headers["Location"]


def test_hidden_attachment_of_another_case_is_not_served(app, client, network, cases):
    # the attachment's id under the public case's address: refused, not served
    assert client.get(f"/library/{cases['public']}/attachments/{cases['attachment']}"
                      ).status_code == 404  # fmt: skip


def test_the_attachment_files_are_checked_by_content(app, network, cases):
    from cacnet.library import services

    with app.test_request_context(base_url=app.config["BASE_URL"]):
        from cacnet.library.models import LibraryCase

        case = db.session.get(LibraryCase, cases["public"])
        png = io.BytesIO()
        from PIL import Image

        Image.new("RGB", (4, 4), "red").save(png, "PNG")
        attachment = services.add_attachment(user(network["Seoul"]["delegate"]), case,
                                             "photo.pdf", png.getvalue())  # fmt: skip
        # the name lied; the stored type and extension follow the content
        assert attachment.content_type == "image/png" and attachment.filename == "photo.png"
