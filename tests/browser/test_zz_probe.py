import sys
sys.path.insert(0, "/work/main")
from tests.browser.test_journey import *  # noqa

def test_probe(open_page, live_server):
    for mobile in (True, False):
        page = open_page({"width": 390, "height": 844}, is_mobile=mobile)
        page.goto(live_server.url("/apply"))
        print(mobile, page.evaluate("[document.documentElement.scrollWidth, window.innerWidth, document.documentElement.clientWidth]"))
        print(page.evaluate("""() => [...document.querySelectorAll('*')].filter(e => e.getBoundingClientRect().right > 390).map(e => e.tagName + '#' + e.id + '.' + e.className + ' ' + Math.round(e.getBoundingClientRect().right) + ' ' + Math.round(e.getBoundingClientRect().width))"""))
