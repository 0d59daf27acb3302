"""Objects that libraries would make on every request, and this project makes once."""

from __future__ import annotations

from intake.api import views
from intake.models import Patient, Prescription
from pharmacy.cache import RedisCache
from tests.factories import api_payload


def test_the_redis_cache_keeps_one_client_per_connection_pool():
    # Making a client opens no connection, so this needs no Redis server.
    cache = RedisCache("redis://127.0.0.1:6379/9", {})
    client = cache._cache.get_client()
    assert cache._cache.get_client(write=True) is client


def test_the_history_manager_class_is_made_once_per_model():
    assert type(Prescription.history) is type(Prescription.history)
    assert Patient.history.model is not Prescription.history.model  # each model still its own history


def test_the_submission_serializers_keep_no_state_between_requests(prescriber_api):
    # given: a bad submission, then a good one, through the one shared serializer
    bad = prescriber_api.post("/api/v1/prescriptions/", {**api_payload(), "quantity": 0}, format="json")
    good = prescriber_api.post("/api/v1/prescriptions/", api_payload(), format="json")

    # then: the first error does not stick to the second request, and the answer is the new one's
    assert bad.status_code == 400 and "quantity" in bad.json()
    assert good.status_code == 201, good.json()
    assert good.json()["id"] == Prescription.objects.get().pk
    assert not hasattr(views._SUBMISSION_IN, "_validated_data")  # nothing kept on the shared serializer


def test_a_link_without_arguments_is_reversed_once_and_is_what_url_gives(settings):
    from django.template import Context, Template
    from django.urls import reverse

    from intake.templatetags import links

    links._reversed.cache_clear()
    rendered = Template("{% link 'staff:queue' %} {% link 'staff:queue' %} {% url 'staff:queue' %}").render(Context())

    assert rendered.split() == [reverse("staff:queue")] * 3
    assert links._reversed.cache_info().misses == 1  # the second one came from memory


def test_a_link_follows_another_urlconf(settings):
    from django.template import Context, Template

    template = Template("{% link 'home' %}")
    assert template.render(Context()) == "/"
    settings.ROOT_URLCONF = "tests.perf.prefixed_urls"
    assert template.render(Context()) == "/pharmacy-app/"


def test_static_urls_are_the_manifest_storages_and_are_worked_out_once(tmp_path, settings, monkeypatch):
    from whitenoise.storage import CompressedManifestStaticFilesStorage

    from pharmacy.storage import StaticFilesStorage

    # given: a manifest with one hashed file
    manifest = '{"paths": {"css/app.css": "css/app.0123456789ab.css"}, "version": "1.1"}'
    (tmp_path / "staticfiles.json").write_text(manifest)
    settings.DEBUG = False
    storage = StaticFilesStorage(location=str(tmp_path), base_url="/static/")
    plain = CompressedManifestStaticFilesStorage(location=str(tmp_path), base_url="/static/")
    calls = []
    original = CompressedManifestStaticFilesStorage.url

    def counted(self, *args, **kwargs):
        calls.append(args)
        return original(self, *args, **kwargs)

    monkeypatch.setattr(CompressedManifestStaticFilesStorage, "url", counted)

    # then: the same URL as WhiteNoise's storage gives, worked out on the first call only
    assert storage.url("css/app.css") == "/static/css/app.0123456789ab.css" == original(plain, "css/app.css")
    assert storage.url("css/app.css") == "/static/css/app.0123456789ab.css"
    assert len(calls) == 1
