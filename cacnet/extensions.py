"""The Flask extensions, created unbound and initialised in ``create_app``."""

from flask_babel import Babel
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address
from flask_login import LoginManager
from flask_migrate import Migrate
from flask_talisman import Talisman
from flask_wtf.csrf import CSRFProtect

from cacnet.core.db import db

__all__ = ["babel", "csrf", "db", "limiter", "login_manager", "migrate", "talisman"]

migrate = Migrate()
login_manager = LoginManager()
csrf = CSRFProtect()
babel = Babel()
talisman = Talisman()
# Limits are declared on the views; storage comes from RATELIMIT_STORAGE_URI (Redis or memory).
limiter = Limiter(key_func=get_remote_address, default_limits=[])
