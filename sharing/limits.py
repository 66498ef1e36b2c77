"""Rate limits on sharing (cramptrack.ratelimit: fixed windows in the shared cache).

Share-code attempts count per account and per client address, so neither many accounts
nor many addresses get far; sending invitations and making codes count per patient.
Each function counts one attempt and returns 0 if it is allowed, else the seconds to wait.
"""

from cramptrack.ratelimit import Limit, client_ip, hit

CODE_ATTEMPTS_PER_USER = Limit("code-user", 10, 3600)
CODE_ATTEMPTS_PER_IP = Limit("code-ip", 20, 3600)
INVITATIONS_PER_PATIENT = Limit("invite", 10, 24 * 3600)
CODES_PER_PATIENT = Limit("new-code", 20, 24 * 3600)


def code_attempt_wait(request) -> int:
    """Each try at a share code counts against both the account and the address."""
    per_user = hit(CODE_ATTEMPTS_PER_USER, f"u{request.user.pk}")
    per_ip = hit(CODE_ATTEMPTS_PER_IP, client_ip(request))
    return max(per_user, per_ip)


def invitation_wait(user) -> int:
    return hit(INVITATIONS_PER_PATIENT, f"u{user.pk}")


def new_code_wait(user) -> int:
    return hit(CODES_PER_PATIENT, f"u{user.pk}")
