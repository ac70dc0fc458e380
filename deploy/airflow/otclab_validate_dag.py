"""Airflow DAG: otclab's template validation on a larger deployment (docs/governance.md; not run in CI).

The same job as ``otclab schedule serve`` and deploy/cron/otclab-validate.cron, one task per template
so that Airflow shows, retries and times out each notebook on its own. Each task runs
``otclab payoffs validate <name> --trigger schedule``, which is papermill underneath
(``papermill.execute_notebook`` in a fresh ``python3`` kernel, cells limited to ``CELL_TIMEOUT_S``)
plus what Airflow's ``PapermillOperator`` does not do: it runs the notebook with its own folder as
working directory and that folder trusted (the validation cells load the template beside them),
collects what the cells ``record()``, and records the run in the platform's store
(``validation_runs``: version, status, executed notebook, HTML report, duration, trigger), moves a
draft version to validated, and alerts (``alerts`` + the WeCom group robot in
``OTCLAB_ALERT_WEBHOOK``) when it fails. A deployment that must use ``PapermillOperator`` itself
gives it ``input_nb=payoffs/<name>.ipynb`` and runs the worker in ``payoffs/``; such runs are not in
otclab's registry, so they cannot validate a version for booking.

Installation: put this file in the DAGs folder of a worker with the otclab checkout at
``OTCLAB_HOME`` and its ``.venv``; set ``OTCLAB_DB_URL`` and ``OTCLAB_ALERT_WEBHOOK`` in the worker's
environment. The task fails when the notebook fails (exit 1), so Airflow's own alerting sees it too.
"""
from __future__ import annotations

import datetime as dt
import os
from pathlib import Path

from airflow import DAG
from airflow.operators.bash import BashOperator

OTCLAB_HOME = Path(os.environ.get("OTCLAB_HOME", "/opt/otclab"))
TEMPLATES = sorted(p.stem for p in (OTCLAB_HOME / "payoffs").glob("*.ipynb"))
CELL_TIMEOUT_S = 600

with DAG(
    dag_id="otclab_validate_templates",
    description="papermill validation of otclab's payoff templates, recorded in the platform's registry",
    schedule="0 2 * * *",               # nightly, like `otclab schedule serve --cron "0 2 * * *"`
    start_date=dt.datetime(2026, 1, 1, tzinfo=dt.timezone(dt.timedelta(hours=8))),
    catchup=False,
    max_active_runs=1,
    default_args={"retries": 1, "retry_delay": dt.timedelta(minutes=5),
                  # a notebook's cells are each limited; the whole task a few cells' worth
                  "execution_timeout": dt.timedelta(seconds=4 * CELL_TIMEOUT_S)},
    tags=["otclab", "templates", "governance"],
) as dag:
    for name in TEMPLATES:
        BashOperator(
            task_id=f"validate_{name}",
            bash_command=(f"cd {OTCLAB_HOME} && .venv/bin/otclab payoffs validate {name} --trigger schedule "
                          f"--timeout {CELL_TIMEOUT_S}"),
        )

    # notebooks changed since the last look (a version neither shipped approved nor validated yet)
    BashOperator(task_id="validate_changed", bash_command=(f"cd {OTCLAB_HOME} && .venv/bin/otclab schedule run-once "
                                                           f"--changed-only --timeout {CELL_TIMEOUT_S}"))
