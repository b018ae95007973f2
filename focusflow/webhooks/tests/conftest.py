import pytest

from deploy.check.webhook_receiver import WebhookReceiver


@pytest.fixture
def receiver():
    """A real HTTP receiver on a free loopback port (deploy/check/webhook_receiver.py)."""
    receiver = WebhookReceiver().start()
    yield receiver
    receiver.stop()


@pytest.fixture
def private(settings):
    """Webhooks to the loopback receiver are allowed, as in development."""
    settings.WEBHOOK_ALLOW_PRIVATE_URLS = True
