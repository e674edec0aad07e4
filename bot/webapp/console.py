"""The moderator console: /moderate.

Sign in with the moderator token; the browser then holds only a server-side session's id
(auth.py). Every POST needs that session and its CSRF field, with no foreign Origin, or a
Bearer token, so another site cannot drive the console through a moderator's browser.
Plain forms with redirect-after-post: it works without JavaScript.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal
from urllib.parse import urlencode

from aiohttp import web
from jinja2 import Environment

from bot.host import CONTROLS, ControlError
from bot.platforms.web.origin import is_same_origin
from bot.records import Action
from bot.script import ScriptError, ScriptIssue, load_script
from bot.webapp.api import record_id
from bot.webapp.auth import Moderator, auth_for
from bot.webapp.forms import read_form
from bot.webapp.templating import render

if TYPE_CHECKING:
    from bot.core import Core

log = logging.getLogger(__name__)

MAX_SCRIPT_BYTES = 128 * 1024
# Asked of a message's network from its card: the author reported, muted or blocked by the
# bot's account, or the bot's own post deleted (hide and restore have their own buttons).
NETWORK_ACTIONS = ("report", "mute", "block", "delete")


def _back(message: str = "", error: str = "", session: object = None) -> web.HTTPSeeOther:
    query = {k: v for k, v in {"msg": message, "err": error,
                               "session": session or ""}.items() if v}
    return web.HTTPSeeOther("/moderate" + (f"?{urlencode(query)}" if query else ""))


def setup_moderate(app: web.Application, bot: Core, env: Environment) -> None:
    """Add the moderator console's routes under /moderate."""
    routes = web.RouteTableDef()
    auth = auth_for(app, bot)

    def console(request: web.Request, who: Moderator, *, status: int = 200,
                upload_text: str = "",
                upload_issues: list[ScriptIssue] | None = None) -> web.Response:
        from bot.moderation import review as review_mod

        live = [bot.archive.session(sid) for sid, task in bot.host_tasks.items()
                if not task.done()]
        selected = None
        wanted = request.query.get("session")
        if record_id(wanted) is not None:
            try:
                selected = bot.archive.session(record_id(wanted) or 0)
            except KeyError:
                selected = None
        if selected is None and live:
            selected = live[0]
        messages = []
        if selected is not None:
            messages = bot.archive.messages(selected.id)[-200:]
            messages.reverse()
        recent = list(reversed(bot.archive.sessions()))[:15]
        page = render(
            env, "moderate.html.j2", status=status, csrf=who.csrf, live=live,
            selected=selected, messages=messages, recent=recent, chats=sorted(bot.chats),
            controls=CONTROLS, alerts=list(reversed(bot.alerts))[:20],
            queue=review_mod.review_queue(bot.archive), decisions=review_mod.DECISIONS,
            issues=bot.script_issues, msg=request.query.get("msg", ""),
            err=request.query.get("err", ""), upload_text=upload_text,
            upload_issues=upload_issues or [], items=(bot.archive.items(selected.id)
                                                      if selected else []),
            network_actions=_network_actions(bot),
        )
        page.headers["Cache-Control"] = "no-store"  # it carries the session's CSRF value
        return page

    @routes.get("/moderate")
    async def page(request: web.Request) -> web.Response:
        who = auth.session(request)
        if who is None:
            return render(env, "login.html.j2", error="")
        return console(request, who)

    @routes.post("/moderate/login")
    async def login(request: web.Request) -> web.Response:
        if not is_same_origin(request, bot.settings.web.public_url, missing_ok=True):
            raise web.HTTPForbidden(text="Refused: sign in from the console page itself.")
        form = await read_form(request, max_bytes=4096)
        supplied = str(form.get("token", "")).strip()
        response = web.HTTPSeeOther("/moderate")
        try:
            auth.sign_in(request, response, supplied)
        except web.HTTPTooManyRequests as refused:
            page = render(env, "login.html.j2", status=429,
                          error="Too many wrong tokens from here; wait and try again later.")
            page.headers["Retry-After"] = refused.headers.get("Retry-After", "600")
            return page
        except web.HTTPForbidden:
            log.warning("a moderator sign-in with a wrong token")
            return render(env, "login.html.j2", status=403,
                          error="That token is not right. It is MODERATOR_TOKEN, or the file "
                                "transcripts/.moderator-token on the bot's machine.")
        raise response

    async def sign_out(request: web.Request, *, everywhere: bool) -> web.Response:
        who, _ = await auth.require_form(request)
        response = web.HTTPSeeOther("/moderate")
        (auth.sign_out_everywhere if everywhere else auth.sign_out)(who, response)
        raise response

    @routes.post("/moderate/logout")
    async def logout(request: web.Request) -> web.Response:
        return await sign_out(request, everywhere=False)

    @routes.post("/moderate/logout-everywhere")
    async def logout_everywhere(request: web.Request) -> web.Response:
        return await sign_out(request, everywhere=True)

    @routes.post("/moderate/control")
    async def control(request: web.Request) -> web.Response:
        who, form = await auth.require_form(request)
        command = str(form.get("command", ""))
        session = record_id(form.get("session"))
        try:
            minutes = float(form["minutes"]) if form.get("minutes") else None
            if command not in CONTROLS:
                raise ControlError(f"unknown control '{command}'")
            detail = bot.control(command, minutes, session_id=session, actor=who.actor)
        except (ControlError, ValueError) as exc:
            raise _back(error=str(exc), session=session) from None
        raise _back(message=detail, session=session)

    @routes.post("/moderate/start")
    async def start(request: web.Request) -> web.Response:
        who, form = await auth.require_form(request)
        chat = str(form.get("chat", ""))
        rehearsal = form.get("rehearsal") == "on"
        try:
            pace = float(form.get("pace") or 1) if rehearsal else 1.0
            if not 1 <= pace <= 3600:
                raise ValueError("the pace must be between 1 and 3600")
            sid = await bot.start_session(chat, pace=pace, rehearsal=rehearsal)
        except (ControlError, ValueError) as exc:
            raise _back(error=str(exc)) from None
        kind = f"rehearsal at pace {pace:g}" if rehearsal else "live session"
        raise _back(message=f"started session {sid} of {chat} ({kind})", session=sid)

    @routes.post("/moderate/script")
    async def upload(request: web.Request) -> web.Response:
        who, form = await auth.require_form(request, files=("file",))
        text = form.get("text") or ""
        upload_file = form.get("file")
        if isinstance(upload_file, web.FileField) and upload_file.filename:
            raw = upload_file.file.read(MAX_SCRIPT_BYTES + 1)
            if len(raw) > MAX_SCRIPT_BYTES:
                raise _back(error="That file is too big for a chat script (128 KB at most).")
            try:
                text = raw.decode("utf-8")
            except UnicodeDecodeError:
                raise _back(error="That file is not UTF-8 text; save it as UTF-8.") from None
        text = str(text).replace("\r\n", "\n")
        if not text.strip():
            raise _back(error="Paste a chat script or choose a file first.")
        chats_dir = Path(bot.settings.chats.dir)
        try:
            script = load_script(chats_dir / "uploaded.yaml", text=text)
        except ScriptError as exc:
            return console(request, who, status=422, upload_text=text, upload_issues=exc.issues)
        chats_dir.mkdir(parents=True, exist_ok=True)
        target = chats_dir / f"{script.id}.yaml"
        target.write_text(text, encoding="utf-8")
        bot.archive.audit(actor=who.actor, action="script.upload", target=str(target),
                          detail=f"{script.title} ({script.hashtag})", at=bot.clock.now())
        result = await bot.reload()
        raise _back(message=f"saved {target} and reloaded ({result})")

    async def moderate_message(request: web.Request, hide: bool) -> web.Response:
        who, form = await auth.require_form(request)
        platform_name, message_id = str(form.get("platform", "")), str(form.get("id", ""))
        stored = bot.archive.message(platform_name, message_id)
        if stored is None:
            raise _back(error=f"no message {platform_name}:{message_id}")
        bot.archive.set_moderation_state(platform_name, message_id, hidden=hide,
                                         held=False if not hide else None)
        verb: Literal["hide", "restore"] = "hide" if hide else "restore"
        bot.archive.audit(actor=who.actor, action=f"message.{verb}",
                          target=f"{platform_name}:{message_id}", detail="", at=bot.clock.now())
        note = f"{verb}: {platform_name}:{message_id}"
        platform = _running(bot, stored.session_id, platform_name)
        if platform is not None:
            result = await platform.act(Action(verb, message_id=message_id,
                                               reason="moderator console"))
            if not result.done:
                note += f" (on {platform_name}: {result.detail})"
        if stored.session_id is not None and \
                bot.archive.session(stored.session_id).status == "ended":
            await bot.publish(stored.session_id)  # the published transcript follows
        raise _back(message=note, session=stored.session_id)

    @routes.post("/moderate/hide")
    async def hide(request: web.Request) -> web.Response:
        return await moderate_message(request, True)

    @routes.post("/moderate/restore")
    async def restore(request: web.Request) -> web.Response:
        return await moderate_message(request, False)

    @routes.post("/moderate/review")
    async def review(request: web.Request) -> web.Response:
        from bot.moderation.review import ReviewError, decide, review_queue

        who, form = await auth.require_form(request)
        try:
            event_id = record_id(form.get("event"))
            if event_id is None:
                raise ValueError(form.get("event"))
        except ValueError:
            raise _back(error="no review item was chosen") from None
        item = next((i for i in review_queue(bot.archive) if i.event_id == event_id), None)
        platform = _running(bot, item.session_id, item.platform) if item else None
        try:
            decision = await decide(bot.archive, event_id, str(form.get("decision", "")),
                                    who.actor, bot.clock.now(), platform)
        except ReviewError as exc:
            raise _back(error=str(exc)) from None
        if item is not None and item.session_id is not None and \
                bot.archive.session(item.session_id).status == "ended":
            await bot.publish(item.session_id)
        raise _back(message=f"item {event_id}: {decision.decision}; now {decision.state}")

    @routes.post("/moderate/act")
    async def act(request: web.Request) -> web.Response:
        """Report, mute or block a message's author, or delete the bot's own post."""
        who, form = await auth.require_form(request)
        verb = str(form.get("verb", ""))
        if verb not in NETWORK_ACTIONS:
            raise _back(error=f"unknown action {verb[:40]!r}: use one of "
                              f"{', '.join(NETWORK_ACTIONS)}")
        platform_name, message_id = str(form.get("platform", "")), str(form.get("id", ""))
        stored = bot.archive.message(platform_name, message_id)
        if stored is None:
            raise _back(error=f"no message {platform_name}:{message_id}")
        platform = _running(bot, stored.session_id, platform_name)
        if platform is None:
            raise _back(error=f"{platform_name} is not running for this message's chat: start "
                              f"the bot with it to {verb} there", session=stored.session_id)
        result = await platform.act(Action(verb, message_id=message_id,  # type: ignore[arg-type]
                                           author_id=stored.author_id,
                                           reason="reported by the chat's moderators"))
        bot.archive.audit(actor=who.actor, action=f"message.{verb}",
                          target=f"{platform_name}:{message_id}", detail=result.detail[:300],
                          at=bot.clock.now())
        note = f"{verb} on {platform_name}: {result.detail}"
        if result.done:
            raise _back(message=note, session=stored.session_id)
        raise _back(error=note, session=stored.session_id)

    @routes.post("/moderate/certificate")
    async def certificate(request: web.Request) -> web.Response:
        """Any participant's CPD certificate, for a moderator (rendered off the loop)."""
        from bot.transcript.certificate import CertificateError

        who, form = await auth.require_form(request)
        session_text, platform = str(form.get("session", "")), str(form.get("platform", ""))
        author = str(form.get("author", ""))[:200]
        if not session_text.isdigit() or len(session_text) > 12 or not author:
            raise _back(error="choose a session and a participant")
        try:
            name, page = await bot.publisher.certificate(int(session_text), platform, author)
        except (KeyError, CertificateError) as exc:
            raise _back(error=str(exc).strip("'\"")) from None
        return web.Response(text=page, content_type="text/html", headers={
            "Content-Disposition": f'attachment; filename="{name}"', "Cache-Control": "no-store"})

    app.add_routes(routes)


def _running(bot: Any, session_id: int | None, platform_name: str) -> Any:
    """The running adapter of the session's chat on `platform_name`, or None."""
    if session_id is None:
        return None
    runtime = bot.chats.get(bot.archive.session(session_id).chat_id)
    return runtime.platforms.get(platform_name) if runtime else None


def _network_actions(bot: Any) -> dict[str, list[str]]:
    """For each running platform, which of the console's network actions it can take."""
    found: dict[str, list[str]] = {}
    for runtime in bot.chats.values():
        for name, platform in runtime.platforms.items():
            found[name] = [v for v in NETWORK_ACTIONS if v in platform.capabilities.actions]
    return found


__all__ = ["NETWORK_ACTIONS", "setup_moderate"]
