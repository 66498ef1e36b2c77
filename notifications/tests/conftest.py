import pytest

from . import push_receiver


@pytest.fixture
def push_keys(settings, tmp_path):
    """Local http endpoints allowed, and a VAPID key of the test's own in its var/."""
    from notifications import vapid

    settings.PUSH_ALLOW_LOCAL_HTTP = True
    settings.VAR_DIR = tmp_path
    vapid.vapid.cache_clear()
    yield
    vapid.vapid.cache_clear()


@pytest.fixture
def push_service(push_keys):
    service = push_receiver.start()
    yield service
    assert service.server is not None
    service.server.shutdown()
    service.server.server_close()
