"""A scheduled action run the way Odoo's cron runner runs it, for the job benchmarks.

`bench_expiry.py` and `bench_membership.py` time their daily job as `ir.cron._run_job` runs
it: a progress record, the cron's server action (one batch, which reports what remains
through `ir.cron._notify_progress`), a commit, and again while the job says records remain
(the runner does a few batches per pass and is called again at once; this just loops).
`bench/run.sh` puts this folder on the Python path so that they import this module.
"""

import time

from odoo import api


def run_cron(env, xmlid, time_limit=0.0, on_batch=None):
    """Run the scheduled action `xmlid` batch after batch until it reports nothing left (or
    a batch does nothing). Returns one (seconds, queries, done) per batch, each batch
    committed. `time_limit` (seconds, 0 = none): stop after the batch that crosses it.
    `on_batch(batches, remaining)` is called after each batch (progress lines)."""
    cr = env.cr
    cron = env.ref(xmlid)
    job_env = api.Environment(cr, cron.user_id.id, {"lastcall": cron.lastcall, "cron_id": cron.id})
    job = job_env["ir.cron"].browse(cron.id)
    name, action_id = cron.cron_name, cron.ir_actions_server_id.id
    batches = []
    while True:
        count0 = cr.sql_log_count
        start = time.perf_counter()
        batch_job, progress = job._add_progress(timed_out_counter=0)
        cr.commit()
        batch_job._callback(name, action_id)
        progress.flush_recordset()
        done, remaining = progress.done, progress.remaining
        cr.commit()
        batches.append((time.perf_counter() - start, cr.sql_log_count - count0, done))
        if not remaining or not done:
            return batches
        if on_batch:
            on_batch(batches, remaining)
        if time_limit and sum(b[0] for b in batches) >= time_limit:
            return batches
