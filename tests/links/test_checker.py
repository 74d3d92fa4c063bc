"""The link checker against real web servers and a real proxy on loopback."""

from __future__ import annotations

import time

import pytest
from sqlalchemy import select

from cacnet.core.db import db
from cacnet.links import checker
from cacnet.links.models import LinkState, NetworkLink
from tests.conftest import body_of, login
from tests.links.conftest import SLOW_SECONDS


def _settings(app):
    return checker.Settings.from_app(app)


@pytest.mark.parametrize(
    ("path", "ok", "status", "error", "seen"),
    [
        ("/ok", True, 200, "", [("HEAD", "/ok")]),
        ("/missing", False, 404, "http 404", [("HEAD", "/missing")]),
        ("/no-head", True, 200, "", [("HEAD", "/no-head"), ("GET", "/no-head")]),
        ("/moved", True, 200, "", [("HEAD", "/moved"), ("HEAD", "/ok")]),
    ],
)
def test_one_address_is_checked_as_a_browser_would_reach_it(
    app, checking, site, path, ok, status, error, seen
):
    result = checker.check_url(site.url(path), _settings(app))
    assert (result.ok, result.status_code, result.error) == (ok, status, error)
    assert [(method, p) for method, p, _agent in site.requests] == seen
    assert all(agent.startswith("cacnet-link-checker/") for _m, _p, agent in site.requests)


def test_a_page_slower_than_the_timeout_fails_without_waiting_for_it(app, checking, site):
    began = time.monotonic()
    result = checker.check_url(site.url("/slow"), _settings(app))
    assert (result.ok, result.status_code, result.error) == (False, None, checker.TIMEOUT)
    assert time.monotonic() - began < SLOW_SECONDS


def test_a_closed_port_fails_as_a_connection_error(app, checking, site):
    url = site.url("/ok")
    site.shutdown()
    site.server_close()
    result = checker.check_url(url, _settings(app))
    assert (result.ok, result.error) == (False, checker.CONNECTION)


def test_requests_go_through_the_configured_proxy(app, checking, site, proxy):
    checking["LINK_CHECK_PROXY"] = proxy.url
    assert checker.check_url(site.url("/no-head"), _settings(app)).ok
    assert proxy.forwarded == [("HEAD", site.url("/no-head")), ("GET", site.url("/no-head"))]
    assert site.paths() == ["/no-head", "/no-head"]  # the site saw them, from the proxy


def test_a_run_goes_through_the_proxy_too(app, checking, site, proxy, network, add_link):
    checking["LINK_CHECK_PROXY"] = proxy.url
    add_link(("city", network["Seoul"]["city_id"]), site.url("/ok"))
    add_link(("city", network["London"]["city_id"]), site.url("/missing"))
    with app.test_request_context():
        done = checker.run_checks()
    assert (done["checked"], done["ok"], done["failed"]) == (2, 1, 1)
    assert sorted(url for _m, url in proxy.forwarded) == [site.url("/missing"), site.url("/ok")]


@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.1:9/x",
        "http://localhost/",
        "http://10.1.2.3/",
        "http://192.168.0.1/",
        "http://169.254.169.254/latest/meta-data/",
        "http://[::1]/",
        "http://[::ffff:127.0.0.1]/",
        "http://[fe80::1]/",
    ],
)
def test_non_public_addresses_are_refused_without_the_allow_flag(app, checking, url):
    checking["LINK_CHECK_ALLOW_PRIVATE"] = False
    assert checker.check_url(url, _settings(app)) == checker.Result(False, None, checker.PRIVATE)


def test_a_private_site_is_never_contacted_nor_a_redirect_to_one(app, checking, site, proxy):
    checking["LINK_CHECK_ALLOW_PRIVATE"] = False
    assert checker.check_url(site.url("/ok"), _settings(app)).error == checker.PRIVATE
    checking["LINK_CHECK_PROXY"] = proxy.url  # a proxy does not make a private target acceptable
    assert checker.check_url(site.url("/ok"), _settings(app)).error == checker.PRIVATE
    assert site.requests == [] and proxy.forwarded == []


def test_disabled_checking_fetches_nothing_and_records_nothing(
    app, checking, site, network, add_link
):
    link_id = add_link(("city", network["Seoul"]["city_id"]), site.url("/ok"))
    checking["LINK_CHECK_ENABLED"] = False
    with app.test_request_context():
        assert set(checker.run_checks().values()) == {0}
        assert checker.check_link(link_id) is None
        link = db.session.get(NetworkLink, link_id)
        assert (link.state, link.last_checked_at, link.failures) == (LinkState.UNCHECKED, None, 0)
    result = app.test_cli_runner().invoke(args=["links", "check"])
    assert "disabled" in result.output
    assert site.requests == []


def _link(link_id) -> NetworkLink:
    return db.session.get(NetworkLink, link_id)


def _run(app) -> dict:
    with app.test_request_context(base_url=app.config["BASE_URL"]):
        return checker.run_checks()


def test_broken_after_two_failures_in_a_row_one_mail_per_owner_then_cleared(
    app, client, checking, site, network, add_link, smtp_server
):
    seoul, london = network["Seoul"], network["London"]
    ok = add_link(("city", seoul["city_id"]), site.url("/ok"), "Seoul COVID-19")
    missing = add_link(("city", seoul["city_id"]), site.url("/missing"), "서울 코로나19", "ko")
    flaky = add_link(("city", seoul["city_id"]), site.url("/flaky"), "Seoul daily updates")
    gone = add_link(("city", london["city_id"]), site.url("/missing"), "London coronavirus")
    site.switched_off = True

    first = _run(app)
    assert (first["checked"], first["failed"], first["broken"], first["mails"]) == (4, 3, 0, 0)
    with app.app_context():
        assert _link(missing).state == LinkState.UNCHECKED and _link(missing).failures == 1
        assert _link(ok).state == LinkState.OK
    assert smtp_server.messages == []

    second = _run(app)
    assert (second["broken"], second["mails"]) == (3, 2)
    with app.app_context():
        for link_id in (missing, flaky, gone):
            link = _link(link_id)
            assert link.state == LinkState.BROKEN and link.failures == 2
            assert link.broken_since is not None and link.owner_notified_at is not None
            assert link.broken_since < link.last_checked_at  # since the first failure
    [to_seoul] = smtp_server.to(seoul["admin"])
    [to_london] = smtp_server.to(london["admin"])
    text = body_of(to_seoul)
    assert "서울 코로나19" in text and "Seoul daily updates" in text
    assert "Seoul COVID-19" not in text and f"/cities/{seoul['slug']}/links" in text
    assert "London coronavirus" in body_of(to_london)
    assert smtp_server.to(seoul["delegate"]) == []  # the city's administrators, not everyone

    third = _run(app)  # still broken: nobody is told twice
    assert (third["failed"], third["broken"], third["mails"]) == (3, 0, 0)
    assert len(smtp_server.messages) == 2

    login(client, seoul["admin"])
    page = client.get(f"/cities/{seoul['slug']}/links").get_data(as_text=True)
    assert page.count("Could not be reached since") == 2
    public = client.get("/cities/network").get_data(as_text=True)
    assert public.count("Could not be reached since") == 3

    site.switched_off = False
    fourth = _run(app)
    assert fourth["recovered"] == 1
    with app.app_context():
        link = _link(flaky)
        assert (link.state, link.failures, link.broken_since, link.owner_notified_at) == (
            LinkState.OK, 0, None, None)  # fmt: skip
        assert link.last_error == "" and link.last_status_code == 200
    page = client.get(f"/cities/{seoul['slug']}/links").get_data(as_text=True)
    assert page.count("Could not be reached since") == 1


def test_an_organisations_broken_link_is_mailed_to_the_secretariat(
    app, checking, site, network, add_organisation, add_link, smtp_server
):
    who = add_organisation()
    add_link(("organisation", who), site.url("/missing"), "Coronavirus disease (COVID-19)")
    _run(app)
    assert _run(app)["mails"] == 2  # the secretariat officer and the admin
    for address in (network["secretariat"], network["admin"]):
        [mail] = smtp_server.to(address)
        assert "Coronavirus disease (COVID-19)" in body_of(mail)
        assert f"/secretariat/links/organisations/{who}" in body_of(mail)


def test_links_are_checked_in_batches_oldest_checked_first(app, checking, site, network, add_link):
    seoul = ("city", network["Seoul"]["city_id"])
    ids = [add_link(seoul, site.url(p)) for p in ("/ok", "/moved", "/no-head")]
    with app.test_request_context():
        assert checker.run_checks(limit=2)["checked"] == 2
        assert [_link(i).last_checked_at is not None for i in ids] == [True, True, False]
        first_checked = {i: _link(i).last_checked_at for i in ids[:2]}
        site.requests.clear()
        assert checker.run_checks(limit=1)["checked"] == 1  # the never-checked one first
        assert site.paths() == ["/no-head", "/no-head"]
        site.requests.clear()
        assert checker.run_checks(limit=1)["checked"] == 1  # then the oldest checked
        oldest = min(first_checked, key=lambda i: (first_checked[i], i))
        assert _link(oldest).last_checked_at > first_checked[oldest]
        assert len(site.requests) in (1, 2)


def test_links_of_cities_that_left_are_not_checked(app, checking, site, network, add_link):
    from cacnet.membership import services as membership
    from cacnet.membership.models import Membership, MembershipState
    from tests.links.conftest import user

    link_id = add_link(("city", network["London"]["city_id"]), site.url("/ok"))
    with app.test_request_context():
        row = db.session.scalar(
            select(Membership).where(
                Membership.city_id == network["London"]["city_id"],
                Membership.state == MembershipState.APPROVED,
            )
        )
        membership.withdraw(user(network["secretariat"]), row, "The city left.")
        db.session.commit()
    assert _run(app)["checked"] == 0
    with app.app_context():
        assert _link(link_id).last_checked_at is None
    assert site.requests == []


def test_the_command_line_runs_a_check(app, checking, site, network, add_link):
    add_link(("city", network["Seoul"]["city_id"]), site.url("/ok"))
    result = app.test_cli_runner().invoke(args=["links", "check"])
    assert result.exit_code == 0, result.output
    assert "Checked 1 links: 1 reachable" in result.output
    assert site.paths() == ["/ok"]


def test_the_owner_may_check_a_link_now(app, client, checking, site, network, add_link):
    link_id = add_link(("city", network["Seoul"]["city_id"]), site.url("/missing"))
    login(client, network["Seoul"]["admin"])
    page = client.get(f"/cities/{network['Seoul']['slug']}/links").get_data(as_text=True)
    from tests.conftest import csrf_token

    response = client.post(
        f"/links/{link_id}/check", data={"csrf_token": csrf_token(page)}, follow_redirects=True
    )
    assert "The page could not be reached." in response.get_data(as_text=True)
    with app.app_context():
        link = _link(link_id)
        assert (link.failures, link.last_status_code, link.state) == (1, 404, LinkState.UNCHECKED)


def test_a_new_address_starts_unchecked(app, checking, site, network, add_link):
    from cacnet.links import services
    from tests.links.conftest import user

    link_id = add_link(("city", network["Seoul"]["city_id"]), site.url("/missing"))
    _run(app)
    _run(app)
    with app.test_request_context():
        link = _link(link_id)
        assert link.state == LinkState.BROKEN
        services.update_link(
            user(network["Seoul"]["admin"]), link,
            services.LinkData(site.url("/ok"), link.title, link.language))  # fmt: skip
        link = _link(link_id)
        assert (link.state, link.failures, link.broken_since, link.last_checked_at) == (
            LinkState.UNCHECKED, 0, None, None)  # fmt: skip


def test_a_request_queues_the_periodic_run_once_per_interval(
    app, client, checking, site, network, add_link, monkeypatch
):
    """The first request of the interval queues a run in the background (never inline in a
    visitor's request, never when checking is off); later requests of the interval do not."""
    from cacnet.core import jobs
    from cacnet.links import views

    link_id = add_link(("city", network["Seoul"]["city_id"]), site.url("/ok"))
    monkeypatch.setitem(app.config, "LINK_CHECK_AUTO", True)  # off for the other tests
    views._next_look = 0.0
    client.get("/")  # JOBS_SYNC (tests): nothing runs inside the request
    assert site.requests == []
    monkeypatch.setitem(app.config, "JOBS_SYNC", False)
    monkeypatch.setitem(app.config, "LINK_CHECK_ENABLED", False)
    views._next_look = 0.0
    client.get("/")
    jobs.wait_for_threads()
    assert site.requests == []
    monkeypatch.setitem(app.config, "LINK_CHECK_ENABLED", True)
    views._next_look = 0.0
    client.get("/")
    jobs.wait_for_threads()
    assert site.paths() == ["/ok"]
    with app.app_context():
        assert _link(link_id).state == LinkState.OK
    views._next_look = 0.0
    client.get("/")  # the interval has not passed: the shared cache elects nobody
    jobs.wait_for_threads()
    assert site.paths() == ["/ok"]
