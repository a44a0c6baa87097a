"""The Flask application factory."""
import os
from datetime import timedelta

from flask import Flask

from models import Session
from models.db import bind_session, make_engine
from web import config as app_config
from web.extensions import csrf, login_manager
from workflows import settings


def create_app(config=None):
    """Build the app. ``config`` overrides the environment (tests pass the database URL this way)."""
    instance_path = (config or {}).get("INSTANCE_PATH") or os.environ.get("INSTANCE_PATH") \
        or os.path.join(os.getcwd(), "instance")
    os.makedirs(instance_path, exist_ok=True)
    app = Flask(__name__, instance_path=os.path.abspath(instance_path))
    from web import inputs
    inputs.init_app(app)   # before any blueprint: its URL rules use the bounded int converter
    app.config.update(app_config.from_environment(app.instance_path))
    app.config.update(config or {})
    app_config.check_production(app.config)
    cfg = settings.configure(app.config)
    from workflows import processes
    processes.init_registry()   # every BPMN file is parsed and validated now: a broken one stops start-up
    app.config.update(
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        PERMANENT_SESSION_LIFETIME=timedelta(minutes=cfg.session_idle_minutes),
        WTF_CSRF_TIME_LIMIT=None,   # the token lives as long as the login session, which has its own limits
        MAX_CONTENT_LENGTH=16 * 1024 * 1024,
        JSON_AS_ASCII=False,
    )
    app.json.ensure_ascii = False

    if app.config.get("TRUSTED_PROXIES"):
        from werkzeug.middleware.proxy_fix import ProxyFix
        hops = int(app.config["TRUSTED_PROXIES"])
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=hops, x_proto=hops, x_host=hops)

    engine = app.config.get("ENGINE") or make_engine(app.config["DATABASE_URL"], pool_pre_ping=True)
    app.extensions["engine"] = engine
    bind_session(engine)

    login_manager.init_app(app)
    csrf.init_app(app)

    from web import errors, security, cli, nav, filters, throttle
    security.init_app(app)
    throttle.init_app(app)
    filters.init_app(app)
    errors.init_app(app)
    cli.init_app(app)
    nav.init_app(app)

    from web.auth.views import bp as auth_bp
    from web.accounts.views import bp as accounts_bp
    from web.roles.views import bp as roles_bp
    from web.audit.views import bp as audit_bp
    from web.workflow.views import bp as inbox_bp
    from web.api import bp as api_bp
    for blueprint in (auth_bp, accounts_bp, roles_bp, audit_bp, inbox_bp, api_bp):
        app.register_blueprint(blueprint)
    csrf.exempt(api_bp)
    from web.notifications.views import bp as notifications_bp
    from web.locklist.views import bp as locklist_bp
    app.register_blueprint(notifications_bp)
    app.register_blueprint(locklist_bp)
    from web.scheduler.views import bp as scheduler_bp
    app.register_blueprint(scheduler_bp)
    from web.realname.views import bp as realname_bp, api_bp as realname_api_bp
    app.register_blueprint(realname_bp)   # after the API: it wraps the generic task completion for its checks
    app.register_blueprint(realname_api_bp)
    csrf.exempt(realname_api_bp)
    from web.personnel.views import bp as personnel_bp, api as personnel_api_bp
    app.register_blueprint(personnel_bp)
    app.register_blueprint(personnel_api_bp)
    csrf.exempt(personnel_api_bp)
    from web.people import bp as people_bp, api as people_api_bp
    app.register_blueprint(people_bp)
    app.register_blueprint(people_api_bp)
    csrf.exempt(people_api_bp)
    from web.institution.views import bp as institution_bp, api_bp as institution_api_bp
    app.register_blueprint(institution_bp)   # after the approval centre and the API: it guards their endpoints
    app.register_blueprint(institution_api_bp)
    from web.orgdata import bp as orgdata_bp
    from web.orgdata.api import api as orgdata_api_bp
    app.register_blueprint(orgdata_bp)
    app.register_blueprint(orgdata_api_bp)
    csrf.exempt(orgdata_api_bp)
    from web.leak.views import bp as leak_bp, api as leak_api_bp
    app.register_blueprint(leak_bp)   # after the approval centre and the API: it guards their endpoints
    app.register_blueprint(leak_api_bp)
    csrf.exempt(leak_api_bp)
    from web.handover.views import bp as handover_bp, api as handover_api_bp
    app.register_blueprint(handover_bp)   # after the approval centre and the API: it guards their endpoints
    app.register_blueprint(handover_api_bp)
    csrf.exempt(handover_api_bp)
    from web.application.views import bp as application_bp, api as application_api_bp
    app.register_blueprint(application_bp)   # after the approval centre and the API: it guards their endpoints
    app.register_blueprint(application_api_bp)
    csrf.exempt(application_api_bp)
    from web.permchange.views import bp as permchange_bp, api as permchange_api_bp
    app.register_blueprint(permchange_bp)   # after the approval centre and the API: it guards their endpoints
    app.register_blueprint(permchange_api_bp)
    csrf.exempt(permchange_api_bp)
    from web.imports.views import bp as imports_bp, api as imports_api_bp
    app.register_blueprint(imports_bp)
    app.register_blueprint(imports_api_bp)
    csrf.exempt(imports_api_bp)

    @app.teardown_appcontext
    def _remove_session(_exc):
        Session.remove()

    from scheduler.runner import start_embedded
    start_embedded(app)   # only with EMBEDDED_SCHEDULER=1 (make run); never in tests or the reloader's parent
    return app
