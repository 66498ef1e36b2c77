"""API token authentication: knox's tokens, checked with one plain SQL query per request."""

import binascii
from functools import cache
from hmac import compare_digest

from django.contrib.auth import get_user_model
from django.db import connection
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from knox.auth import TokenAuthentication as KnoxTokenAuthentication
from knox.crypto import hash_token
from knox.models import get_token_model
from knox.settings import CONSTANTS, knox_settings
from rest_framework import exceptions

from cramptrack.db import prepared_cursor
from diary.models import Profile


@cache
def _token_query() -> tuple[str, list, list, list]:
    """The token, its user and the user's diary profile in one statement, and their columns.

    Written once per process: building this query through the ORM on every request cost
    more CPU than the rest of an episode create (none of these fields needs a converter).
    """
    quote = connection.ops.quote_name
    models = (get_token_model(), get_user_model(), Profile)
    fields = [[f for f in model._meta.concrete_fields] for model in models]
    token, user, profile = (quote(model._meta.db_table) for model in models)
    columns = ", ".join(
        f"{table}.{quote(f.column)}" for table, group in zip((token, user, profile), fields, strict=True) for f in group
    )
    # Names from model metadata; the token key is a parameter.
    joins = f"{token} JOIN {user} ON {user}.id = {token}.user_id LEFT JOIN {profile} ON {profile}.user_id = {user}.id"
    sql = f"SELECT {columns} FROM {joins} WHERE {token}.token_key = %s"  # noqa: S608
    return sql, *([f.attname for f in group] for group in fields)


class TokenAuthentication(KnoxTokenAuthentication):
    """knox loads every other token of the user on each request to delete expired ones
    (a second query), and diary writes then load the profile (a third). Here the token,
    its user and the profile come in one query; expired tokens are still refused and deleted."""

    def authenticate_credentials(self, token: bytes):
        try:
            token_str = token.decode("utf-8")
            digest = hash_token(token_str)
        except (UnicodeDecodeError, TypeError, binascii.Error):
            raise _invalid() from None
        sql, token_names, user_names, profile_names = _token_query()
        with prepared_cursor() as cursor:
            cursor.execute(sql, [token_str[: CONSTANTS.TOKEN_KEY_LENGTH]])
            rows = cursor.fetchall()
        for row in rows:
            auth_token = _instance(get_token_model(), token_names, row[: len(token_names)])
            if auth_token.expiry is not None and auth_token.expiry < timezone.now():
                auth_token.delete()
                continue
            if not compare_digest(digest, auth_token.digest):
                continue
            user = _instance(get_user_model(), user_names, row[len(token_names) : len(token_names) + len(user_names)])
            profile_values = row[len(token_names) + len(user_names) :]
            if profile_values[0] is not None:  # as select_related("user__profile") would cache them
                profile = _instance(Profile, profile_names, profile_values)
                Profile.user.field.set_cached_value(profile, user)
                Profile.user.field.remote_field.set_cached_value(user, profile)
            get_token_model().user.field.set_cached_value(auth_token, user)
            if knox_settings.AUTO_REFRESH and auth_token.expiry:
                self.renew_token(auth_token)
            return self.validate_user(auth_token)
        raise _invalid()


def _invalid() -> exceptions.AuthenticationFailed:
    return exceptions.AuthenticationFailed(_("Invalid token."))


def _instance(model, names: list[str], values):
    return model.from_db(connection.alias, names, values)
