"""axe-core (npm, vendored under web/static/vendor) run in the page: its serious and critical violations. The page's
context needs `bypass_csp=True`, since the test injects the script itself."""

from daodian.kit.settings import PROJECT_ROOT

AXE = PROJECT_ROOT / "src" / "daodian" / "web" / "static" / "vendor" / "axe.min.js"


def serious_violations(page) -> list[dict]:
    """axe-core's serious and critical violations on the page as it is now ([] when none)."""
    page.add_script_tag(path=str(AXE))
    return page.evaluate("""async () => {
        const r = await axe.run(document, {resultTypes: ["violations"]});
        return r.violations.filter(v => v.impact === "serious" || v.impact === "critical")
                 .map(v => ({id: v.id, impact: v.impact, nodes: v.nodes.slice(0, 3).map(n => n.target.join(" "))}));
    }""")
