"""Runbook stubs: one per alert tier, filled with what the compiler knows, user text verbatim,
templates sandboxed and replaceable by the team's own."""

import re
from pathlib import Path

import pytest
import yaml

from compiler import markdown
from conftest import DATA, ROOT, tree, write_spec

SECTIONS = ["## Meaning", "## Impact", "## Diagnosis", "## Mitigation", "## Escalation"]
TRICKY = "Shown verbatim: {{ 7 * 7 }} {% if true %}x{% endif %} {# not a comment #} {{ ''.__class__ }}"
SPEC = f"""\
service: shop
description: "Shop {{{{ service }}}}"
owner: "team-{{{{ owner }}}}"
slos:
  - name: availability
    description: "{TRICKY}"
    objective: 99.9
    sli:
      ratio:
        errors: http_requests_total{{job="shop", code=~"5.."}}
        total: http_requests_total{{job="shop"}}
        group_by: [route]
    alerting:
      page: {{labels: {{severity: "{{{{ sev }}}}"}}}}
"""


def compile_shop(tmp_path: Path, slo, settings: str = "", spec: str = SPEC):
    write_spec(tmp_path / "slos", "shop.yaml", spec)
    settings_file = write_spec(tmp_path, "slo-settings.yaml", settings)
    return slo("compile", "--slos", tmp_path / "slos", "--out", tmp_path / "output", "--settings", settings_file)


def runbooks(out: Path) -> dict[str, str]:
    return {p: data.decode() for p, data in tree(out).items() if p.startswith("runbooks/")}


def test_one_runbook_per_alert_tier_with_every_section(tmp_path, slo):
    assert compile_shop(tmp_path, slo).code == 0
    found = runbooks(tmp_path / "output")
    assert sorted(found) == ["runbooks/shop/shop-availability-budget-burn-page.md",
                             "runbooks/shop/shop-availability-budget-burn-ticket.md"]
    for text in found.values():
        assert [line for line in text.splitlines() if line.startswith("## ")] == SECTIONS
        assert text.count("**TODO**") == 4


def test_a_page_runbook_states_windows_thresholds_budget_and_time_to_exhaustion(tmp_path, slo):
    assert compile_shop(tmp_path, slo).code == 0
    text = runbooks(tmp_path / "output")["runbooks/shop/shop-availability-budget-burn-page.md"]
    assert "| Objective | 99.9% of events good over 30d |" in text
    assert "| Error budget | 0.1% of events, 43m 12s of full outage per 30d |" in text
    # 14.4x spends 2% of a 30d budget in 1h (51.8s of full outage) and all of it in 30d / 14.4 = 50h.
    assert "| 1h | 5m | 2m | 14.4x | 1.44% | 2% (51s of full outage) | 2d 2h |" in text
    assert "| 6h | 30m | 15m | 6x | 0.6% | 5% (2m 9s of full outage) | 5d |" in text
    assert "| 1d |" not in text  # the ticket pairs are in the ticket's runbook
    # Without grafana_url the dashboard is a path on Grafana, named rather than linked.
    assert "| Dashboard | `/d/slo-shop?viewPanel=105` in your Grafana |" in text
    assert "](/d/" not in text
    assert 'sum by (route) (rate(http_requests_total{job="shop", code=~"5.."}[5m]))' in text
    assert 'slo:sli_error:ratio_rate1h{slo_service="shop", slo_name="availability"} / 0.001' in text
    assert "per route" in text and "This alert pages" in text


def test_user_text_appears_verbatim_and_is_never_evaluated(tmp_path, slo):
    assert compile_shop(tmp_path, slo).code == 0
    for text in runbooks(tmp_path / "output").values():
        # Escaped for Markdown (`\*`, `\#`), which renders as the text itself (see test_escaping).
        assert markdown.inline(TRICKY) in text and "49" not in text and "<class" not in text
        assert "Shop {{ service }}" in text and "team-{{ owner }}" in text
    assert "`severity={{ sev }}`" in runbooks(tmp_path / "output")[
        "runbooks/shop/shop-availability-budget-burn-page.md"]


def test_team_templates_replace_the_shipped_ones_for_all_one_service_or_one_alert(tmp_path, slo):
    templates = tmp_path / "runbook-templates"
    write_spec(templates, "runbook.md.j2", "all: {{ alert.name }} {{ slo.description }}\n")
    write_spec(templates / "shop", "shop-availability-budget-burn-page.md.j2", "page of {{ service.owner }}\n")
    assert compile_shop(tmp_path, slo, "runbook_templates: runbook-templates\n").code == 0
    found = runbooks(tmp_path / "output")
    assert found["runbooks/shop/shop-availability-budget-burn-page.md"] == "page of team-{{ owner }}\n"
    assert found["runbooks/shop/shop-availability-budget-burn-ticket.md"] == \
        f"all: ShopAvailabilityBudgetBurn {TRICKY}\n"
    write_spec(templates, "shop.md.j2", "service {{ service.name }}\n")
    assert compile_shop(tmp_path, slo, "runbook_templates: runbook-templates\n").code == 0
    assert runbooks(tmp_path / "output")["runbooks/shop/shop-availability-budget-burn-ticket.md"] == "service shop\n"


@pytest.mark.parametrize("template, expected", [
    ("# ok\n{% if %}\n", "runbook-templates/runbook.md.j2:2:1: template: Expected an expression"),
    ("# ok\n\n{{ slo.nme }}\n", "runbook-templates/runbook.md.j2:3:1: template: 'dict object' has no attribute 'nme'"),
    ("{{ ''.__class__.__mro__ }}\n", "runbook-templates/runbook.md.j2:1:1: template: access to attribute "
                                     "'__class__' of 'str' object is unsafe."),
    ("{% set x = alert.labels.update({'a': 1}) %}\n", "runbook-templates/runbook.md.j2:1:1: template: "),
])
def test_a_broken_or_unsafe_team_template_is_one_line_with_its_place_and_nothing_is_written(
        tmp_path, slo, template, expected):
    write_spec(tmp_path / "runbook-templates", "runbook.md.j2", template)
    result = compile_shop(tmp_path, slo, "runbook_templates: runbook-templates\n")
    assert result.code == 1 and not (tmp_path / "output").exists()
    assert len(result.lines) == 1 and result.lines[0].startswith(expected), result.err


def test_a_missing_template_folder_points_at_the_setting(tmp_path, slo):
    result = compile_shop(tmp_path, slo, "# templates\nrunbook_templates: nowhere\n")
    assert result.code == 1
    assert result.lines == [f"{tmp_path / 'slo-settings.yaml'}:2:20: runbook_templates: 'nowhere' is not a "
                            f"folder next to slo-settings.yaml"]  # the settings file as the command named it


def test_compiled_runbooks_follow_the_shipped_template(compiled):
    # The golden test compares bytes; this one reads a compiled runbook as people do.
    text = (compiled / "runbooks" / "platform" / "platform-queue-delivery-budget-burn-page.md").read_text()
    assert text.startswith("# PlatformQueueDeliveryBudgetBurn: page\n")
    assert "| 15m | 4m |" in text and "7d" in text


def linked_runbooks(out: Path) -> set[str]:
    """The runbook paths every alert of every rule file names (`runbook_path`, `output/<path>`, without a base URL)."""
    files = sorted((out / "prometheus").glob("*.rules.yml"))
    groups = [g for p in files for g in yaml.safe_load(p.read_text())["groups"]]
    return {r["annotations"]["runbook_path"].removeprefix("output/") for g in groups for r in g["rules"]
            if "alert" in r}


def test_every_alert_links_a_generated_runbook_even_with_both_tiers_off(tmp_path, slo, compiled):
    spec = SPEC.replace('      page: {labels: {severity: "{{ sev }}"}}\n', "      page: false\n      ticket: false\n")
    assert compile_shop(tmp_path, slo, spec=spec).code == 0
    out = tmp_path / "output"
    assert linked_runbooks(out) == {"runbooks/shop/shop-availability-budget-burn-ticket.md"}
    assert set(runbooks(out)) == linked_runbooks(out)
    text = runbooks(out)["runbooks/shop/shop-availability-budget-burn-ticket.md"]
    assert text.startswith("# ShopAvailabilityDataMissing: ticket\n\n`shop/availability` has had no data for 15m")
    assert all(section in text for section in SECTIONS)
    assert "Both alert tiers of this SLO are off" in text and "| long window |" not in text
    # The compiled test specs, with tiers on and off, link only runbooks they hold too.
    assert set(runbooks(compiled)) >= linked_runbooks(compiled)


def annotation_rows(text: str, table: int = 0) -> dict[str, str]:
    """The annotations a runbook lists in its `table`th annotation table, {name: value as written in Markdown}."""
    rows = text.split("| annotation | value |\n|---|---|\n")[table + 1].split("\n\n", 1)[0]
    return dict(re.fullmatch(r"\| `(\w+)` \| (.*) \|", row).groups() for row in rows.splitlines())


def test_each_tier_s_runbook_lists_the_annotations_its_alerts_carry(tmp_path, slo):
    # Sloth's per-tier annotations over the SLO's: the page overrides the summary, the ticket adds a playbook.
    write_spec(tmp_path / "slos", "myservice.yaml", (DATA / "wild" / "sloth-tier-annotations.yaml").read_text())
    out = tmp_path / "output"
    assert slo("compile", "--slos", tmp_path / "slos", "--out", out, "--settings", tmp_path / "none").code == 0
    found = {p.split("-")[-1].removesuffix(".md"): annotation_rows(text) for p, text in runbooks(out).items()}
    assert found == {
        "page": {"summary": "`myservice is losing requests now`", "team": "`myteam`"},
        "ticket": {"playbook": "<https://wiki.example.com/myservice/slow-burn>",
                   "summary": "`High error rate on myservice`", "team": "`myteam`"}}
    # The missing-data ticket links to the ticket's runbook too, carrying the SLO's annotations only.
    ticket = runbooks(out)["runbooks/myservice/myservice-requests-availability-budget-burn-ticket.md"]
    assert "`MyserviceRequestsAvailabilityDataMissing` links here too" in ticket
    shown_missing = annotation_rows(ticket, 1)
    assert shown_missing == {"summary": "`High error rate on myservice`", "team": "`myteam`"}
    # What each alert carries, as the rule file has it.
    [group] = yaml.safe_load((out / "prometheus" / "myservice.rules.yml").read_text())["groups"]
    for rule in (r for r in group["rules"] if "alert" in r):
        shown = shown_missing if rule["alert"].endswith("DataMissing") else found[rule["labels"]["slo_severity"]]
        assert {k: rule["annotations"][k] for k in shown} == {k: v.strip("`<>") for k, v in shown.items()}


def test_annotations_are_shown_as_written_and_a_missing_data_runbook_lists_the_slo_s(tmp_path, slo):
    spec = SPEC.replace('      page: {labels: {severity: "{{ sev }}"}}\n', """\
      annotations:
        escalate: "call {{ $labels.route }} | now"
        wiki: "https://wiki.example.com/{{ $labels.route }}"
      page: false
      ticket: false
""")
    assert compile_shop(tmp_path, slo, spec=spec).code == 0
    [text] = runbooks(tmp_path / "output").values()
    assert text.startswith("# ShopAvailabilityDataMissing: ticket")
    # Prometheus templates stay as written, a table cell's `|` escaped; an address with a template is no link.
    assert annotation_rows(text) == {"escalate": "`call {{ $labels.route }} \\| now`",
                                     "wiki": "`https://wiki.example.com/{{ $labels.route }}`"}
    # A tier that is on but has no pair in the settings' catalog: its runbook is the missing-data
    # ticket's, which carries the SLO's annotations, not the tier's.
    spec = spec.replace("      ticket: false\n", "      ticket: {annotations: {queue: SHOP}}\n")
    catalog = "tiers: [{severity: page, budget_spent: 2, long: 1h, short: 5m}]\n"
    assert compile_shop(tmp_path, slo, catalog, spec).code == 0
    [text] = runbooks(tmp_path / "output").values()
    assert text.startswith("# ShopAvailabilityDataMissing: ticket") and "queue" not in annotation_rows(text)
    [group] = yaml.safe_load((tmp_path / "output" / "prometheus" / "shop.rules.yml").read_text())["groups"]
    [missing] = [r for r in group["rules"] if "alert" in r]
    assert (missing["annotations"]["wiki"], "queue" in missing["annotations"]) == (
        "https://wiki.example.com/{{ $labels.route }}", False)



def test_a_runbook_says_when_the_missing_data_ticket_lacks_the_tier_s_annotations(tmp_path, slo):
    spec = SPEC.replace('      page: {labels: {severity: "{{ sev }}"}}\n', "      ticket: {annotations: {queue: SHOP}}\n")
    assert compile_shop(tmp_path, slo, spec=spec).code == 0
    found = runbooks(tmp_path / "output")
    ticket = found["runbooks/shop/shop-availability-budget-burn-ticket.md"]
    assert annotation_rows(ticket) == {"queue": "`SHOP`"}
    assert "`ShopAvailabilityDataMissing` links here too" in ticket
    assert "It carries none of this tier's annotations." in ticket
    # The page's runbook neither lists annotations nor speaks of the ticket that links elsewhere.
    page = found["runbooks/shop/shop-availability-budget-burn-page.md"]
    assert "| annotation |" not in page and "DataMissing" not in page


def test_a_runbook_without_annotations_has_no_annotation_table(tmp_path, slo):
    assert compile_shop(tmp_path, slo).code == 0
    assert all("| annotation |" not in text for text in runbooks(tmp_path / "output").values())


def test_the_annotation_example_of_the_runbook_docs_is_what_compiling_it_writes(tmp_path, slo):
    page = (ROOT / "docs" / "runbooks.md").read_text()
    spec = re.search(r"```yaml\n(service: checkout\n.*?)```", page, re.S)[1]
    excerpt = re.search(r"```markdown\n(The alert carries .*?)```", page, re.S)[1]
    write_spec(tmp_path / "slos", "checkout.yaml", spec)
    out = tmp_path / "output"
    assert slo("compile", "--slos", tmp_path / "slos", "--out", out, "--settings", tmp_path / "none").code == 0
    found = runbooks(out)
    assert excerpt in found["runbooks/checkout/checkout-availability-budget-burn-page.md"]
    assert annotation_rows(found["runbooks/checkout/checkout-availability-budget-burn-ticket.md"]) == {
        "team": "`payments`"}
