"""What a finished `mlcost run` reports besides success: quarantined files, held-back slices,
and the failure messages of a run that failed."""

from __future__ import annotations

from pathlib import Path

from dagster_project.lib.warehouse import connection, table_exists

HELD_BACK = ("focus", "rpt_held_back_slices")
ACTION_PROBLEMS = ("marts", "rpt_recommendation_action_problems")


def quarantined_files(warehouse: Path, landing_dir: Path) -> list[str]:
    """The reason of every file under `landing_dir` that is quarantined (and not loaded by a
    later delivery of the same path), one paragraph each."""
    if not warehouse.exists():
        return []
    with connection(warehouse, read_only=True) as con:
        if not table_exists(con, "meta", "load_ledger"):
            return []
        rows = con.execute(
            """select path, error from meta.load_ledger q
               where status = 'quarantined'
                 and not exists (select 1 from meta.load_ledger ok
                                 where ok.path = q.path and ok.status = 'loaded'
                                   and ok.loaded_at > q.loaded_at)
               order by path""").fetchall()
    prefix = str(landing_dir)
    seen, out = set(), []
    for path, error in rows:
        if path.startswith(prefix) and Path(path).exists() and path not in seen:
            seen.add(path)
            out.append(error)
    return out


def held_back_slices(warehouse: Path) -> list[str]:
    """One line per billing slice the build held back (focus.rpt_held_back_slices): it failed a
    rule, so it is not published; every other slice is. Empty when the table does not exist."""
    if not warehouse.exists():
        return []
    with connection(warehouse, read_only=True) as con:
        if not table_exists(con, *HELD_BACK):
            return []
        rows = con.execute(
            """select provider, billing_account_id, billing_period, currency, file_id, rule,
                      detail
               from focus.rpt_held_back_slices
               order by provider, billing_account_id, billing_period, currency, rule""").fetchall()
    out = []
    for provider, account, period, currency, file_id, rule, detail in rows:
        when = period.strftime("%Y-%m") if hasattr(period, "strftime") else period
        out.append(f"{provider} account {account} {when} {currency} (file {file_id}): "
                   f"held back by rule {rule}: {detail}")
    return out


def ignored_action_lines(warehouse: Path, landing_dir: Path | None = None) -> list[str]:
    """One paragraph per line of the reviewed recommendation actions file that was ignored
    (marts.rpt_recommendation_action_problems, docs/recommendations.md); its other lines apply.
    The file is named relative to `landing_dir` when below it. Empty when the table does not
    exist."""
    from dagster_project.lib.ingest.discover import display_path

    if not warehouse.exists():
        return []
    with connection(warehouse, read_only=True) as con:
        if not table_exists(con, *ACTION_PROBLEMS):
            return []
        rows = con.execute("select source_path, problem "
                           "from marts.rpt_recommendation_action_problems "
                           "order by source_path, source_row_number").fetchall()
    # The model names the file by its full path (dbt does not know the landing folder).
    return [display_path(Path(path), landing_dir) + problem[len(path):]
            if problem.startswith(path) else problem for path, problem in rows]


def failure_messages(result) -> list[str]:
    """`step X failed: message cause...` for every failed step of a Dagster run result."""
    messages = []
    for event in result.all_events:
        if event.event_type_value == "STEP_FAILURE":
            err = event.step_failure_data.error
            text = err.message.strip() if err else "unknown error"
            cause = err.cause if err else None
            while cause is not None:
                text += " " + cause.message.strip()
                cause = cause.cause
            messages.append(f"step {event.step_key} failed: {text}")
    return messages
