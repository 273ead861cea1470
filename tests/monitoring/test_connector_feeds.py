"""Feeds connector: real RSS 2.0, Atom and Google Alerts documents, and conditional GET."""

import json
from datetime import UTC, datetime
from pathlib import Path

import pytest
import time_machine

from monitoring.connectors import base, feeds
from monitoring.platforms import Platform, QueryKind

FIXTURES = Path(__file__).parent / "fixtures" / "feeds"


def load(name: str) -> str:
    return (FIXTURES / name).read_text(encoding="utf-8")


def feed_source(httpserver, path: str = "/feed.xml") -> base.SourceConfig:
    return base.SourceConfig(
        platform=Platform.FEED,
        kind=QueryKind.FEED_URL,
        query=httpserver.url_for(path),
        timeout_seconds=3,
    )


# --- parsing ------------------------------------------------------------------------------
def test_rss_gives_one_mention_per_item():
    mentions = feeds.parse(load("rss2sample.xml"))

    assert len(mentions) == 4
    assert all(m.platform == Platform.FEED for m in mentions)
    assert [m.external_id for m in mentions] == [
        "http://liftoff.msfc.nasa.gov/2003/06/03.html#item573",
        "http://liftoff.msfc.nasa.gov/2003/05/30.html#item572",
        "http://liftoff.msfc.nasa.gov/2003/05/27.html#item571",
        "http://liftoff.msfc.nasa.gov/2003/05/20.html#item570",
    ]


def test_rss_item_text_is_title_then_description_without_html():
    star_city = feeds.parse(load("rss2sample.xml"))[0]

    assert star_city.text.startswith("Star City\n\nHow do Americans get ready")
    assert star_city.text.endswith("at Russia's Star City.")
    assert "<a" not in star_city.text
    assert star_city.url == "http://liftoff.msfc.nasa.gov/news/2003/news-starcity.asp"
    assert star_city.published_at == datetime(2003, 6, 3, 9, 39, 21, tzinfo=UTC)
    assert star_city.language == "en"


def test_item_without_title_or_link_uses_its_permalink_guid():
    eclipse = feeds.parse(load("rss2sample.xml"))[1]

    assert eclipse.url == "http://liftoff.msfc.nasa.gov/2003/05/30.html#item572"
    assert eclipse.text.startswith("Sky watchers in Europe")


def test_entry_without_author_is_attributed_to_the_publishing_site():
    mention = feeds.parse(load("rss2sample.xml"))[2]

    assert mention.author.handle == "liftoff.msfc.nasa.gov"
    assert mention.author.display_name == "Liftoff News"
    assert mention.author.url == "http://liftoff.msfc.nasa.gov"
    assert mention.author.followers is None


def test_atom_forum_feed_keeps_authors_and_spanish_text():
    mentions = feeds.parse(load("losersjuegos_forum_topic_795_atom.xml"))

    assert len(mentions) == 4
    assert [m.author.handle for m in mentions] == ["JMP", "carlostex", "hugoruscitti", "JMP"]
    first = mentions[0]
    assert first.external_id == "http://losersjuegos.com.ar/foro/viewtopic.php?t=795&p=3530#p3530"
    assert first.url == first.external_id
    assert first.language == "es"
    assert first.text.startswith("Re: Rotar un PNG en SDL\n\nGracias,\nya tengo la libreria")
    assert "Estadísticas: Publicado por JMP — Dom Jul 25, 2010 6:53 pm" in first.text


def test_atom_entry_without_published_uses_updated():
    mentions = feeds.parse(load("losersjuegos_forum_topic_795_atom.xml"))

    assert mentions[0].published_at == datetime(2010, 7, 25, 18, 53, 59, tzinfo=UTC)
    assert all(m.published_at.tzinfo is not None for m in mentions)


def test_entities_in_html_content_are_decoded():
    question = feeds.parse(load("losersjuegos_forum_topic_795_atom.xml"))[3]

    assert 'img=SDL_LoadBMP("a.bmp");' in question.text
    assert "SDL_BlitSurface(img,NULL,screen,&dest);" in question.text
    assert "&quot;" not in question.text


def test_google_alerts_links_are_unwrapped_to_the_article():
    mentions = feeds.parse(load("google_alerts_es.xml"))

    assert len(mentions) == 2
    assert mentions[0].url == (
        "https://www.uct.cl/actualidad/noticias/"
        "exposicion-estacion-umbria-lleva-el-bosque-milenario-de-la-araucania-hasta-la-uct/"
    )
    assert mentions[1].url == (
        "https://www.elmartutino.cl/noticia/cultura/"
        "artepuerto-2026-reune-34-artistas-en-exposicion-gratuita-en-valparaiso"
    )
    assert mentions[0].external_id == "tag:google.com,2013:googlealerts/feed:6225395255318560712"


def test_google_alerts_author_is_the_site_that_published():
    mentions = feeds.parse(load("google_alerts_es.xml"))

    assert [m.author.handle for m in mentions] == ["uct.cl", "elmartutino.cl"]
    assert mentions[0].author.display_name == "Google Alert - inauguracion de arte"


def test_google_alerts_text_drops_highlights_and_decodes_entities():
    mention = feeds.parse(load("google_alerts_es.xml"))[0]

    assert mention.text == (
        "Exposición “Estación Umbría” lleva el bosque milenario de La Araucanía hasta la UCT"
        "\n\nCarolina Acuña, egresada de Artes Visuales con especialidad en Grabado y Magíster"
        " por la Universidad de Chile, se ha dedicado desde el término de sus ..."
    )
    assert mention.published_at == datetime(2026, 8, 14, 3, 38, 2, tzinfo=UTC)
    assert mention.language == ""


@pytest.mark.parametrize(
    ("link", "article"),
    [
        (
            "https://www.google.com/url?rct=j&sa=t&url=https://elpais.com/a/1.html&ct=ga&cd=x",
            "https://elpais.com/a/1.html",
        ),
        (
            "https://www.google.com/url?q=https%3A%2F%2Fwww.abc.es%2Fnoticia%3Fid%3D7&sa=U",
            "https://www.abc.es/noticia?id=7",
        ),
        (
            "http://www.bing.com/news/apiclick.aspx?ref=FexRss&aid=&url=https%3a%2f%2fwww.20minutos.es%2fn%2f1&c=1",
            "https://www.20minutos.es/n/1",
        ),
        ("https://www.google.com/search?q=calma", "https://www.google.com/search?q=calma"),
        (
            "https://elpais.com/url?url=https://evil.example",
            "https://elpais.com/url?url=https://evil.example",
        ),
    ],
)
def test_redirect_links_are_unwrapped_only_for_known_redirectors(link, article):
    assert feeds.unwrap_redirect(link) == article


def test_google_news_item_is_attributed_to_its_source_publisher():
    xml = (
        '<?xml version="1.0"?><rss version="2.0"><channel><title>Google News</title>'
        "<item><title>Apagón en Triana - El País</title>"
        "<link>https://news.google.com/rss/articles/CBMiAbc?oc=5</link>"
        '<guid isPermaLink="false">CBMiAbc</guid>'
        "<pubDate>Wed, 14 May 2025 08:00:00 GMT</pubDate>"
        '<source url="https://elpais.com">El País</source></item></channel></rss>'
    )

    [mention] = feeds.parse(xml)

    assert mention.author.handle == "elpais.com"
    assert mention.author.display_name == "El País"
    assert mention.author.url == "https://elpais.com"


@pytest.mark.parametrize("prefix", ["\n", "\n\n  \t", "\ufeff", "\ufeff\n", " \ufeff\r\n"])
def test_leading_blank_lines_and_bom_are_tolerated(prefix):
    assert len(feeds.parse(prefix + load("google_alerts_es.xml"))) == 2
    assert len(feeds.parse((prefix + load("rss2sample.xml")).encode("utf-8"))) == 4


def test_title_equal_to_content_is_not_repeated():
    xml = (
        '<?xml version="1.0"?><rss version="2.0"><channel><title>Reseñas</title>'
        "<item><title>Muy mal servicio</title><description>Muy mal servicio</description>"
        "<link>https://www.opiniones.example/r/1</link><author>cliente@example.com (Rosa)</author>"
        "</item></channel></rss>"
    )

    [mention] = feeds.parse(xml)

    assert mention.text == "Muy mal servicio"
    assert mention.author.handle == "Rosa"


def test_undated_entry_is_kept_and_stamped_now():
    xml = (
        '<?xml version="1.0"?><rss version="2.0"><channel><title>Foro</title>'
        "<item><title>Sin fecha</title><link>https://foro.example/t/1</link></item>"
        "</channel></rss>"
    )

    with time_machine.travel(datetime(2025, 5, 14, 12, 0, tzinfo=UTC), tick=False):
        [mention] = feeds.parse(xml)

    assert mention.published_at == datetime(2025, 5, 14, 12, 0, tzinfo=UTC)


def test_entry_without_id_or_link_gets_a_stable_hash():
    xml = (
        '<?xml version="1.0"?><rss version="2.0"><channel><title>T</title>'
        "<item><title>Solo título</title></item></channel></rss>"
    )

    first = feeds.parse(xml)[0].external_id

    assert first.startswith("sha256:")
    assert feeds.parse(xml)[0].external_id == first


def test_declared_encoding_is_respected_for_bytes():
    xml = (
        '<?xml version="1.0" encoding="iso-8859-1"?><rss version="2.0"><channel>'
        "<title>Diario</title><item><title>Año nuevo, señal nueva</title>"
        "<link>https://www.elpais.com/a/1</link></item></channel></rss>"
    )

    [mention] = feeds.parse(xml.encode("iso-8859-1"))

    assert mention.text == "Año nuevo, señal nueva"
    assert mention.author.handle == "elpais.com"


def test_raw_is_json_serialisable():
    for name in ("rss2sample.xml", "losersjuegos_forum_topic_795_atom.xml", "google_alerts_es.xml"):
        for mention in feeds.parse(load(name)):
            assert json.loads(json.dumps(mention.raw)) == mention.raw


@pytest.mark.parametrize(
    "body",
    [
        "<!DOCTYPE html><html><head><title>Sign in</title></head><body></body></html>",
        "<html><body>Not found</body></html>",
        '{"error": "not a feed"}',
        "just some text",
        "",
    ],
)
def test_body_that_is_not_a_feed_is_malformed(body):
    with pytest.raises(base.MalformedPayload):
        feeds.parse(body)


def test_entry_with_nothing_to_show_is_malformed():
    with pytest.raises(base.MalformedItem):
        feeds.parse_item({"title": "", "summary": ""})


# --- fetching -----------------------------------------------------------------------------
def test_fetch_parses_the_feed_and_keeps_validators(httpserver):
    httpserver.expect_request("/feed.xml").respond_with_data(
        load("losersjuegos_forum_topic_795_atom.xml"),
        content_type="application/atom+xml; charset=utf-8",
        headers={"ETag": '"v1"', "Last-Modified": "Sun, 25 Jul 2010 18:53:59 GMT"},
    )

    page = feeds.fetch(feed_source(httpserver), {})

    assert len(page.mentions) == 4
    assert page.quarantined == []
    assert page.has_more is False
    assert page.next_cursor == {"etag": '"v1"', "modified": "Sun, 25 Jul 2010 18:53:59 GMT"}


def test_fetch_sends_validators_and_304_keeps_the_cursor(httpserver):
    cursor = {"etag": '"v1"', "modified": "Sun, 25 Jul 2010 18:53:59 GMT"}
    httpserver.expect_request(
        "/feed.xml",
        headers={"If-None-Match": '"v1"', "If-Modified-Since": "Sun, 25 Jul 2010 18:53:59 GMT"},
    ).respond_with_data("", status=304)

    page = feeds.fetch(feed_source(httpserver), cursor)

    assert page.mentions == []
    assert page.quarantined == []
    assert page.next_cursor == cursor
    assert page.has_more is False


def test_fetch_tolerates_a_leading_blank_line(httpserver):
    httpserver.expect_request("/alerts").respond_with_data(
        "\n" + load("google_alerts_es.xml"), content_type="application/atom+xml"
    )

    page = feeds.fetch(feed_source(httpserver, "/alerts"), {})

    assert [m.author.handle for m in page.mentions] == ["uct.cl", "elmartutino.cl"]
    assert page.next_cursor == {}


def test_fetch_quarantines_a_bad_entry_and_keeps_the_rest(httpserver, monkeypatch):
    real_parse_item = feeds.parse_item

    def parse_item(item):
        if item.get("id", "").endswith("#p3523"):
            raise base.MalformedItem("unreadable entry")
        return real_parse_item(item)

    monkeypatch.setattr(feeds, "parse_item", parse_item)
    httpserver.expect_request("/feed.xml").respond_with_data(
        load("losersjuegos_forum_topic_795_atom.xml"), content_type="application/atom+xml"
    )

    page = feeds.fetch(feed_source(httpserver), {})

    assert len(page.mentions) == 3
    assert [q.reason for q in page.quarantined] == ["unreadable entry"]
    json.dumps(page.quarantined[0].raw)


def test_fetch_of_an_html_page_is_malformed(httpserver):
    httpserver.expect_request("/feed.xml").respond_with_data(
        "<!doctype html><html><title>Google Alerts</title></html>", content_type="text/html"
    )

    with pytest.raises(base.MalformedPayload):
        feeds.fetch(feed_source(httpserver), {})


def test_fetch_rate_limited_honours_retry_after(httpserver):
    httpserver.expect_request("/feed.xml").respond_with_data(
        "", status=429, headers={"Retry-After": "90"}
    )

    with pytest.raises(base.RateLimited) as caught:
        feeds.fetch(feed_source(httpserver), {})

    assert caught.value.retry_after_seconds == 90


def test_fetch_server_error_is_transient(httpserver):
    httpserver.expect_request("/feed.xml").respond_with_data("", status=503)

    with pytest.raises(base.TransientError):
        feeds.fetch(feed_source(httpserver), {})


def test_fetch_gone_feed_is_permanent(httpserver):
    httpserver.expect_request("/feed.xml").respond_with_data("", status=404)

    with pytest.raises(base.PermanentError):
        feeds.fetch(feed_source(httpserver), {})


def test_fetch_refuses_a_non_http_url():
    source = base.SourceConfig(platform=Platform.FEED, kind=QueryKind.FEED_URL, query="/etc/hosts")

    with pytest.raises(base.PermanentError):
        feeds.fetch(source, {})
