"""Navigation survives a deep link as the very first request of a fresh server."""

from __future__ import annotations

from tests.browser.conftest import running_app


def test_deep_link_first_keeps_the_app_navigation(browser, tmp_path):
    # Streamlit's legacy pages/ discovery once took over here (a folder named pages/ did it).
    with running_app(tmp_path) as url:
        context = browser.new_context(viewport={"width": 1400, "height": 1000})
        page = context.new_page()
        page.goto(f"{url}/data")
        page.get_by_text("Upload a CSV file").wait_for(timeout=60_000)
        nav = page.locator('[data-testid="stSidebarNav"]')
        for section in ("Workflow", "Experiments"):
            assert nav.get_by_text(section, exact=True).count() == 1
        assert nav.get_by_text("streamlit app").count() == 0
        context.close()
