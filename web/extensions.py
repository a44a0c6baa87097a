from flask_limiter import Limiter
from flask_login import LoginManager
from flask_wtf import CSRFProtect

login_manager = LoginManager()
csrf = CSRFProtect()


def _client_ip():
    from web.security import client_ip
    return client_ip()


# Per-IP throttling of login attempts, beside the per-account lockout (web.throttle configures it).
limiter = Limiter(key_func=_client_ip, default_limits=[])
