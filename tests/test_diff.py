"""`slo diff BASE`: git repositories built here, with commits that change what a reviewer must see."""

import json
import subprocess
import sys

from compiler import review
from gitrepo import AVAILABILITY, PROBE, Repo, checkout, repo  # noqa: F401 (repo is a fixture)


def bullets(markdown: str) -> list[str]:
    return [line for line in markdown.splitlines() if line.startswith("- ")]


def warnings(markdown: str) -> list[str]:
    return [line.removeprefix("- ⚠️ ") for line in markdown.splitlines() if line.startswith("- ⚠️ ")]


def table(markdown: str) -> list[list[str]]:
    return [[cell.strip() for cell in line.strip("|").split("|")] for line in markdown.splitlines()
            if line.startswith("| ") and not line.startswith("| tier ")]


def test_no_change_at_all_is_one_line(repo):
    assert repo.markdown() == "No SLO changes against `main`.\n"


def test_a_tightened_objective_shows_budget_minutes_and_allowed_errors_and_warns(repo):
    spec = checkout()
    spec["slos"][0]["objective"] = 99.95
    repo.write(spec)
    md = repo.markdown()
    assert "#### Changed `availability`" in md
    assert "- objective: 99.9% over 30d → 99.95% over 30d" in bullets(md)
    assert ("- error budget 43.2 → 21.6 min of full outage per period (−21.6 min); allowed errors 0.1% → 0.05% "
            "of events (−50%)") in bullets(md)
    assert warnings(md) == ["`checkout/availability`: objective tightened from 99.9% to 99.95%: the error budget "
                            "shrinks from 43.2 to 21.6 min per 30d of full outage"]
    # The burn rates stay; the error ratio at which each tier fires halves.
    assert table(md)[0] == ["page", "1h/5m", "14.4", "1.44% → 0.72% errors", "2m"]
    assert "latency" not in md  # unchanged SLOs are not listed


def test_a_description_change_only_changes_generated_text(repo):
    spec = checkout()
    spec["slos"][0]["description"] = "Checkout requests answered without a server error."
    repo.write(spec)
    md = repo.markdown()
    assert "only generated text differs" in md and "####" not in md and warnings(md) == []
    assert "- rule files: changed `prometheus/checkout.rules.yml`" in bullets(md)


def test_a_tightened_objective_over_a_new_period_names_both_periods(repo):
    spec = checkout()
    spec["slos"][0].update(objective=99.95, window="28d")
    repo.write(spec)
    assert "the error budget shrinks from 43.2 min per 30d to 20.16 min per 28d of full outage" in repo.markdown()


def test_a_loosened_objective_is_listed_without_a_warning(repo):
    spec = checkout()
    spec["slos"][0]["objective"] = 99
    repo.write(spec)
    md = repo.markdown()
    assert "allowed errors 0.1% → 1% of events (+900%)" in md and "432 min" in md
    assert warnings(md) == []


def test_a_changed_window_shows_the_budget_per_period_and_the_new_burn_rates(repo):
    spec = checkout()
    spec["slos"][0]["window"] = "28d"
    repo.write(spec)
    md = repo.markdown()
    assert "- objective: 99.9% over 30d → 99.9% over 28d" in bullets(md)
    assert "error budget 43.2 → 40.32 min of full outage per period (−2.88 min)" in md
    assert "(−2.88 min); allowed errors 0.1% of events\n" in md
    assert table(md)[0] == ["page", "1h/5m", "14.4 → 13.44", "1.44% → 1.344% errors", "2m"]
    assert ["ticket", "3d/6h", "1 → 0.933", "0.1% → 0.0933% errors", "3h"] in table(md)


def test_a_shorter_window_scales_the_alert_windows_and_their_for(repo):
    spec = checkout()
    spec["slos"][0]["window"] = "7d"
    repo.write(spec)
    md = repo.markdown()
    assert "error budget 43.2 → 10.08 min of full outage per period (−33.12 min)" in md
    assert table(md) == [["page", "1h/5m → 15m/4m", "14.4 → 13.44", "1.44% → 1.344% errors", "2m → none"],
                         ["page", "6h/30m → 1h30m/8m", "6 → 5.6", "0.6% → 0.56% errors", "15m → 4m"],
                         ["ticket", "1d/2h → 6h/30m", "3 → 2.8", "0.3% → 0.28% errors", "1h → 15m"],
                         ["ticket", "3d/6h → 18h/1h30m", "1 → 0.933", "0.1% → 0.0933% errors", "3h → 40m"]]
    assert "- alert rules removed: `CheckoutAvailabilityBudgetBurn (page 1h/5m)`" in md


def test_an_sli_query_change_shows_the_old_and_new_query(repo):
    spec = checkout()
    spec["slos"][0]["sli"]["ratio"]["errors"] = 'http_requests_total{job="checkout", code=~"5..|429"}'
    spec["slos"][1]["sli"]["latency"]["threshold"] = "500ms"
    repo.write(spec)
    md = repo.markdown()
    assert ('```diff\n- ratio.errors: http_requests_total{job="checkout", code=~"5.."}\n'
            '+ ratio.errors: http_requests_total{job="checkout", code=~"5..|429"}\n```') in md
    assert "- latency.threshold: 0.3\n+ latency.threshold: 0.5\n" in md
    assert "objective:" not in md  # the objective did not change
    assert warnings(md) == []


def test_turning_the_page_tier_off_warns_that_nobody_is_paged(repo):
    spec = checkout()
    spec["slos"][0]["alerting"] = {"page": False}
    repo.write(spec)
    md = repo.markdown()
    assert "- the page tier is turned off" in bullets(md)
    assert warnings(md) == ["`checkout/availability`: the page tier is turned off: nobody is paged for it any more"]
    assert table(md) == [["page (removed)", "1h/5m", "14.4", "1.44% errors", "2m"],
                         ["page (removed)", "6h/30m", "6", "0.6% errors", "15m"]]
    assert ("- alert rules removed: `CheckoutAvailabilityBudgetBurn (page 1h/5m)`, "
            "`CheckoutAvailabilityBudgetBurn (page 6h/30m)`") in bullets(md)
    # Per SLO: 2 base rates, 4 hourly counts, a ratio per window, 6 more; without the page tier the
    # 5m, 30m and 1h windows go (the base becomes the 2h ticket window), so 20 + 20 becomes 17 + 20.
    # Alert rules: a pair per tier window pair plus the missing-data ticket, 5 + 5 becomes 3 + 5.
    assert "- recording rules: 40 → 37; alert rules: 10 → 8" in bullets(md)


def test_turning_the_ticket_tier_off_and_on_again(repo):
    spec = checkout()
    spec["slos"][1]["alerting"] = {"ticket": False}
    repo.write(spec)
    md = repo.markdown()
    assert warnings(md) == ["`checkout/latency`: the ticket tier is turned off: a slow budget burn opens no ticket"]
    repo.commit()
    repo.write(checkout())
    assert "- the ticket tier is turned on" in bullets(repo.run("diff", "HEAD", "--slos", repo.slos,
                                                                "--settings", repo.settings).out)


def test_a_page_pair_removed_from_the_tier_catalog_warns(repo):
    repo.settings.write_text("tiers:\n"
                             "  - {severity: page, budget_spent: 5, long: 6h, short: 30m, for: 15m}\n"
                             "  - {severity: ticket, budget_spent: 10, long: 3d, short: 6h, for: 3h}\n")
    md = repo.markdown()
    assert "`checkout/availability`: the page alert over 1h/5m (burn rate 14.4) is removed" in warnings(md)
    assert "### Settings\n\nChanged: `tiers`" in md


def test_severity_and_label_changes_that_change_who_is_paged(repo):
    spec = checkout()
    spec["slos"][0]["alerting"] = {"labels": {"team": "payments"}, "page": {"labels": {"severity": "warning"}}}
    spec["labels"] = {"tier": "2"}
    repo.write(spec)
    md = repo.markdown()
    changed = bullets(md)
    assert "- page alerts, label `severity`: `critical` → `warning`" in changed
    assert "- page alerts, label `team`: (none) → `payments`" in changed
    assert "- ticket alerts, label `team`: (none) → `payments`" in changed
    assert "- ticket alerts, label `tier`: `1` → `2`" in changed  # service labels are on every alert too
    assert ("`checkout/availability`: page alerts change severity from critical to warning: Alertmanager routes "
            "on it decide who is paged") in warnings(md)


def test_the_severity_of_each_tier_is_shown_as_every_label_level_sets_it(repo):
    spec = checkout()
    spec["labels"] = {"tier": "1", "severity": "info"}  # a service label wins over the default severity
    spec["slos"][0]["alerting"] = {"page": {"labels": {"severity": "critical"}}}  # a tier label wins over it
    repo.write(spec)
    changed = bullets(repo.markdown())
    assert changed.count("- severity: page alerts `critical`, ticket alerts `info`") == 1  # availability
    assert changed.count("- severity: page alerts `info`, ticket alerts `info`") == 1  # latency
    assert "- page alerts, label `severity`: `critical` → `info`" in changed


def test_an_alert_rename_warns_about_silences_and_routes(repo):
    spec = checkout()
    spec["slos"][0]["alerting"] = {"name": "CheckoutDown"}
    repo.write(spec)
    md = repo.markdown()
    assert "- alert name: `CheckoutAvailabilityBudgetBurn` → `CheckoutDown`" in bullets(md)
    assert any("alert renamed from CheckoutAvailabilityBudgetBurn to CheckoutDown" in w for w in warnings(md))


def test_added_and_removed_slos_and_services(repo):
    repo.write(checkout(AVAILABILITY, PROBE))
    repo.write({"service": "search", "slos": [{**AVAILABILITY, "sli": {"events": {
        "errors": "sum(rate(search_errors_total[$window]))", "total": "sum(rate(search_total[$window]))"}}}]})
    md = repo.markdown()
    assert "#### Added `probe`" in md and "#### Removed `latency`" in md
    assert "### `search` (new service)" in md
    assert "- objective: 99.5% over 30d" in bullets(md)
    assert "- error budget 216 min of full outage per 30d; 0.5% of events may fail" in bullets(md)
    assert "+ bool.metric: probe_success{job=\"blackbox\"}" in md
    assert ("`checkout/latency`: removed with its 2 page alert rules: nobody is paged for it any more"
            in warnings(md))
    assert "- rule groups added: `slo_checkout_probe`, `slo_search_availability`" in bullets(md)
    assert "- rule groups removed: `slo_checkout_latency`" in bullets(md)
    assert "- rule files: added `prometheus/search.rules.yml`; changed `prometheus/checkout.rules.yml`" in bullets(md)

    repo.commit()
    (repo.slos / "search.yaml").unlink()
    md = repo.run("diff", "HEAD", "--slos", repo.slos, "--settings", repo.settings).out
    assert "### `search` (removed service)" in md
    assert "- was 99.9% over 30d, error budget 43.2 min of full outage per period" in bullets(md)
    assert "- PrometheusRule manifests: removed `kubernetes/search.yml`" in bullets(md)


def test_a_renamed_slo_warns_that_its_history_is_lost(repo):
    spec = checkout()
    spec["slos"][0]["name"] = "requests"
    repo.write(spec)
    md = repo.markdown()
    assert "#### Renamed `checkout/availability` → `checkout/requests`" in md
    assert "Removed" not in md and "Added" not in md
    assert any(w.startswith("`checkout/requests`: renamed from checkout/availability: its series start over") and
               "history" in w for w in warnings(md))


def test_a_budget_of_a_few_minutes_is_warned_about(repo):
    spec = checkout()
    spec["slos"][0].update(objective=99.99, window="7d")
    repo.write(spec)
    md = repo.markdown()
    assert ("`checkout/availability`: an error budget of 1.008 min of full outage per 7d: a single incident "
            "spends it before an alert can help") in warnings(md)


def test_specs_compared_with_a_commit_before_the_first_slo(tmp_path, slo):
    repo = Repo(tmp_path / "repo", slo)
    (repo.root / "README").write_text("empty\n")
    repo.commit("start")
    repo.write(checkout())
    md = repo.markdown()
    assert "### `checkout` (new service)" in md and "#### Added `availability`" in md
    assert "- recording rules: 0 → 40; alert rules: 0 → 10" in bullets(md)


def test_the_working_tree_index_and_head_are_left_alone(repo):
    spec = checkout()
    spec["slos"][0]["objective"] = 99.5
    repo.write(spec)
    repo.git("add", "slos")
    (repo.slos / "notes.txt").write_text("untracked\n")
    before = (repo.git("status", "--porcelain"), repo.git("rev-parse", "HEAD"), repo.git("diff", "--cached"),
              (repo.slos / "checkout.yaml").read_bytes())
    assert "99.9% over 30d → 99.5% over 30d" in repo.markdown()
    after = (repo.git("status", "--porcelain"), repo.git("rev-parse", "HEAD"), repo.git("diff", "--cached"),
             (repo.slos / "checkout.yaml").read_bytes())
    assert after == before


def test_json_holds_the_same_facts(repo):
    spec = checkout()
    spec["slos"][0]["objective"] = 99.95
    repo.write(spec)
    data = json.loads(repo.markdown("--format", "json"))
    assert data["base"] == {"ref": "main", "commit": repo.git("rev-parse", "main").strip()}
    change = data["slos"][0]
    assert (change["status"], change["service"], change["name"]) == ("changed", "checkout", "availability")
    assert (change["old"]["budget_minutes"], change["new"]["budget_minutes"]) == ("43.2", "21.6")
    assert [w["kind"] for w in data["warnings"]] == ["tightened"]
    assert data["empty"] is False


def test_a_base_that_is_no_commit_is_one_line_and_exit_2(repo):
    result = repo.diff(base="no-such-branch")
    assert result.code == 2 and len(result.lines) == 1
    assert result.err.startswith("slo: diff: 'no-such-branch' is not a commit in the repository at ")


def test_outside_a_git_repository_is_one_line_and_exit_2(tmp_path, slo):
    (tmp_path / "slos").mkdir()
    result = slo("diff", "main", "--slos", tmp_path / "slos", "--settings", tmp_path / "none")
    assert result.code == 2 and len(result.lines) == 1
    assert f"slo: diff: {tmp_path / 'slos'} is not inside a git repository" in result.err


def test_problems_of_the_base_specs_name_the_ref(repo):
    (repo.slos / "checkout.yaml").write_text("service: checkout\nslos: [\n")
    repo.commit("broken")
    repo.write(checkout())
    result = repo.diff(base="HEAD")
    assert result.code == 1
    # The base's file as the command named the folder: the user's own path, prefixed by the ref.
    assert result.lines == [f"HEAD:{repo.slos}/checkout.yaml:3:1: invalid YAML: did not find expected node content"]


def test_make_style_run_from_the_repository_root(repo):
    spec = checkout()
    spec["slos"][0]["objective"] = 99.95
    repo.write(spec)
    result = subprocess.run([sys.executable, "-m", "compiler", "diff", "main"], cwd=repo.root,
                            capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    assert "99.9% over 30d → 99.95% over 30d" in result.stdout


def test_user_text_cannot_break_the_markdown():
    assert review.code('a|b') == "`a\\|b`"
    assert review.code("x`y") == "``x`y``"
    assert review.code("`") == "`` ` ``"


def test_help_and_wrong_usage(slo):
    assert slo("diff", "--help").code == 0
    for args in (["diff"], ["diff", "main", "--format", "xml"]):
        result = slo(*args)
        assert result.code == 2 and "usage: slo diff" in result.err


def test_a_changed_group_by_warns_that_the_series_start_over(repo):
    spec = checkout()
    spec["slos"][0]["sli"]["ratio"]["group_by"] = ["route"]
    repo.write(spec)
    md = repo.markdown()
    assert "+ ratio.group_by: route" in md
    assert warnings(md) == ["`checkout/availability`: group_by changes from [] to [route]: every series of this "
                            "SLO starts over under the new labels"]


def test_a_review_longer_than_a_comment_is_cut_at_a_line_with_a_note():
    text = "".join(f"- line {i}\n" for i in range(1000))
    cut = review.fit(text, "main", limit=500)
    assert len(cut) <= 500 and cut.startswith("- line 0\n")
    assert cut.endswith("run `slo diff main` or `slo diff main --format json` to see all of it.\n")
    head = cut[:cut.index("\n… cut here")]
    assert head.endswith("\n") and text.startswith(head)  # whole lines only
    assert review.fit(text, "main", limit=len(text)) == text


def test_turning_the_missing_data_ticket_off_warns_and_on_again_is_listed(repo):
    spec = checkout()
    spec["slos"][0]["alerting"] = {"missing_data": False}
    repo.write(spec)
    md = repo.markdown()
    assert "#### Changed `availability`" in md
    assert "- the missing-data ticket is turned off" in bullets(md)
    assert warnings(md) == ["`checkout/availability`: the missing-data ticket is turned off: when the SLI's series "
                            "vanish (a broken exporter, a renamed metric) the SLO sees no errors, so an outage can "
                            "go unseen"]
    assert "- alert rules removed: `CheckoutAvailabilityDataMissing (ticket)`" in bullets(md)
    assert json.loads(repo.markdown("--format", "json"))["slos"][0]["missing_data"] == {
        "key": "missing_data", "old": "15m", "new": None}
    repo.commit()
    repo.write(checkout())
    md = repo.run("diff", "HEAD", "--slos", repo.slos, "--settings", repo.settings).out
    assert "- the missing-data ticket is turned on: it fires after 15m without data" in bullets(md)
    assert warnings(md) == []


def test_a_new_missing_data_for_setting_is_listed_for_each_slo_with_the_ticket(repo):
    spec = checkout()
    spec["slos"][1]["alerting"] = {"missing_data": False}
    repo.write(spec)
    repo.commit()
    repo.settings.write_text("missing_data_for: 30m\n")
    md = repo.markdown()
    assert "#### Changed `availability`" in md and "`latency`" not in md.split("### Settings")[0]
    assert "- the missing-data ticket fires after 15m → 30m without data" in bullets(md)
    assert "### Settings\n\nChanged: `missing_data_for`" in md
    assert warnings(md) == []


def test_a_new_receiver_for_pages_lists_the_changed_alertmanager_route(repo):
    repo.settings.write_text("alertmanager:\n  page: {receiver: pager}\n")
    md = repo.markdown()
    assert "- Alertmanager routes and inhibit rules: changed `alertmanager/route.yml`" in bullets(md)
    assert "### Settings\n\nChanged: `alertmanager`" in md
