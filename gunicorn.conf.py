"""gunicorn reads this from the working directory on every start (Procfile, Dockerfile,
docker-compose, the tests), whatever the command line says.

Which X-Forwarded-* headers to believe is the app's decision (TRUSTED_PROXY_COUNT in
cramptrack/settings.py). gunicorn's own default believes X-Forwarded-Proto from 127.0.0.1,
which would let anything on the same host make plain http count as https behind the app's
back; so gunicorn believes none, and Django's SECURE_PROXY_SSL_HEADER does it when told to.
"""

forwarded_allow_ips = ""
