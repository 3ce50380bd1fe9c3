"""coop_app: the web application of a cooperative of returned migrant workers."""

import os

from flask import Flask

from coop_app import db as database
from coop_app import errors, i18n, navigation, security
from coop_app.auth import access, audit, sessions
from coop_app.config import build_config, engine_options
from coop_app.extensions import bootstrap, csrf, db, limiter, migrate

MIGRATIONS = os.path.join(os.path.dirname(os.path.dirname(__file__)), "migrations")


def create_app(config: dict | None = None) -> Flask:
    """Build the app; `config` overrides the environment (tests pass their database)."""
    config = config or {}
    app = Flask(
        __name__,
        instance_path=instance_path(config),
        template_folder="../templates",
        static_folder="../static",
    )
    configure(app, config)
    register_extensions(app)
    register_request_hooks(app)
    register_blueprints(app)
    register_cli(app)
    return app


def instance_path(config: dict) -> str | None:
    """The instance folder: tests pass it; `COOP_INSTANCE_PATH` moves it (the benchmark
    seeds its own databases without touching the developer's instance/demo-logins.txt)."""
    path = config.get("INSTANCE_PATH") or os.environ.get("COOP_INSTANCE_PATH")
    return os.path.abspath(path) if path else None


def configure(app: Flask, overrides: dict) -> None:
    os.makedirs(app.instance_path, exist_ok=True)
    app.config.update(build_config(app.instance_path, secret_key=overrides.get("SECRET_KEY")))
    app.config.update(overrides)
    app.config.setdefault(
        "SQLALCHEMY_ENGINE_OPTIONS", engine_options(app.config["SQLALCHEMY_DATABASE_URI"])
    )


def register_extensions(app: Flask) -> None:
    db.init_app(app)
    database.init_app(app)
    migrate.init_app(app, db, directory=MIGRATIONS, render_as_batch=True, compare_type=True)
    csrf.init_app(app)
    limiter.init_app(app)
    bootstrap.init_app(app)
    i18n.init_app(app)


def register_request_hooks(app: Flask) -> None:
    """Order matters: hostile input is refused first, idle sessions end before access
    is checked, and the audit row is written after everything else."""
    security.init_app(app)
    sessions.init_app(app)
    access.init_app(app)
    audit.init_app(app)
    errors.init_app(app)
    navigation.init_app(app)


def register_blueprints(app: Flask) -> None:
    from coop_app.auth.audit_routes import bp as audit_bp
    from coop_app.auth.routes import bp as auth_bp
    from coop_app.auth.users_routes import bp as users_bp
    from coop_app.dashboard.routes import bp as dashboard_bp
    from coop_app.health import bp as health_bp
    from coop_app.ledger.routes import bp as books_bp
    from coop_app.loans.product_routes import bp as loan_products_bp
    from coop_app.loans.report_routes import bp as loan_reports_bp
    from coop_app.loans.routes import bp as loans_bp
    from coop_app.loans.simulator import bp as loan_simulator_bp
    from coop_app.members.routes import bp as members_bp
    from coop_app.members.transfer_routes import bp as transfer_bp
    from coop_app.members.village_routes import bp as villages_bp
    from coop_app.reports.routes import bp as reports_bp
    from coop_app.savings.routes import bp as savings_bp

    app.register_blueprint(dashboard_bp, url_prefix="")
    app.register_blueprint(auth_bp, url_prefix="/auth")
    app.register_blueprint(users_bp, url_prefix="/admin/users")
    app.register_blueprint(audit_bp, url_prefix="/audit")
    app.register_blueprint(i18n.bp, url_prefix="/i18n")
    app.register_blueprint(health_bp, url_prefix="/health")
    app.register_blueprint(members_bp, url_prefix="/members")
    app.register_blueprint(transfer_bp, url_prefix="/members")
    app.register_blueprint(villages_bp, url_prefix="/villages")
    app.register_blueprint(reports_bp, url_prefix="/reports")
    app.register_blueprint(savings_bp, url_prefix="/savings")
    app.register_blueprint(books_bp, url_prefix="/books")
    app.register_blueprint(loans_bp, url_prefix="/loans")
    app.register_blueprint(loan_simulator_bp, url_prefix="/loans/simulator")
    app.register_blueprint(loan_products_bp, url_prefix="/loans/products")
    app.register_blueprint(loan_reports_bp, url_prefix="/loans/reports")


def register_cli(app: Flask) -> None:
    from coop_app.cli import register_commands

    register_commands(app)
