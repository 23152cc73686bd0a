def post_init_hook(env):
    """Companies that already have a chart of accounts get the package accounts."""
    env["res.company"].search([])._clinic_setup_accounts()
