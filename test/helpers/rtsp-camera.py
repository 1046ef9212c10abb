#!/usr/bin/python3
"""A test camera: gst-rtsp-server serving an H.264 test pattern on 127.0.0.1.

Run with Debian's /usr/bin/python3 (it has the `gi` bindings). Prints exactly one line
`READY rtsp://127.0.0.1:<port><path>` once serving, then `STALLED` / `RESUMED` to acknowledge
each SIGUSR1 (stall: RTSP sessions stay open, no frames flow) and SIGUSR2 (resume).
SIGTERM/SIGINT exit cleanly. With --exit-on-stdin-eof it also exits when its parent goes away.
With --mounts N it also serves <path>-2 ... <path>-N, each with its own encoder, as the channels
of a recorder; with --one-media too, all N share one encoder (many cameras for the price of one,
for the scale benchmark) — but gst-rtsp-server 1.22 then aborts now and then when clients of two
mounts join at once (gst_rtsp_media_get_rates: assertion failed), so tests do not use it.
With --user/--password only that account may play the stream (RTSP basic, or --auth digest);
anyone else gets 401 Unauthorized, as a real camera answers a wrong password.

With --audio aac|pcma|pcmu it also sends a sine tone as a second RTP stream (pay1): AAC
(voaacenc, MPEG4-GENERIC) or G.711 A-law/mu-law, as cameras with a microphone do.

With --frame-log PATH it appends, line-buffered, what it streamed (times are wall-clock
seconds since the epoch, as Python's time.time()), so a test can tell what a client got:
  START <pid> <t> / STOP <pid> <t>   this camera process began / quit (sessions end with it)
  PLAY <client> <t> <path>   a client's PLAY request is about to be handled (path: its mount)
  CLOSE <client> <t>         that client's connection closed (teardown or gone)
  F <t> <pts> <key> <path>   a frame entered the payloader: buffer PTS (s), 1 for a keyframe,
                             the mount it was for (`*`: every mount, with --one-media)
Frames dropped by a stall never reach the payloader, so they are not logged.
"""
import argparse
import os
import signal
import sys
import time

import gi

gi.require_version("Gst", "1.0")
gi.require_version("GstRtsp", "1.0")
gi.require_version("GstRtspServer", "1.0")
from gi.repository import GLib, Gst, GstRtsp, GstRtspServer  # noqa: E402


def parse_args():
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--path", default="/stream")
    parser.add_argument("--width", type=int, default=320)
    parser.add_argument("--height", type=int, default=240)
    parser.add_argument("--fps", type=int, default=10)
    parser.add_argument("--keyint", type=int, default=0, help="frames between keyframes (default: fps)")
    parser.add_argument("--bitrate", type=int, default=0, help="x264 bitrate, kbit/s (default: x264enc's)")
    parser.add_argument("--pattern", default="ball", help="videotestsrc pattern (snow: incompressible)")
    parser.add_argument("--mounts", type=int, default=1, help="serve this many paths, an encoder each")
    parser.add_argument("--one-media", action="store_true", help="with --mounts: one encoder for all")
    parser.add_argument("--exit-on-stdin-eof", action="store_true", help="quit when stdin closes")
    parser.add_argument("--user", help="require this user (with --password) to play the stream")
    parser.add_argument("--password", default="")
    parser.add_argument("--auth", choices=["basic", "digest"], default="basic")
    parser.add_argument("--audio", choices=["none", "aac", "pcma", "pcmu"], default="none")
    parser.add_argument("--frame-log", help="append PLAY/CLOSE/frame lines to this file")
    args = parser.parse_args()
    if not args.path.startswith("/"):
        parser.error("--path must start with /")
    return args


# The second stream of a camera with a microphone; its own valve so a stall silences it too.
_TONE = "audiotestsrc is-live=true wave=sine freq=440 ! audioconvert ! audioresample"
AUDIO_BRANCHES = {
    "none": "",
    "aac": f"{_TONE} ! audio/x-raw,rate=16000,channels=1 ! voaacenc bitrate=32000 ! aacparse "
    "! valve name=agate drop=false ! rtpmp4gpay name=pay1 pt=97 ",
    "pcma": f"{_TONE} ! audio/x-raw,rate=8000,channels=1 ! alawenc "
    "! valve name=agate drop=false ! rtppcmapay name=pay1 ",
    "pcmu": f"{_TONE} ! audio/x-raw,rate=8000,channels=1 ! mulawenc "
    "! valve name=agate drop=false ! rtppcmupay name=pay1 ",
}


class SharedFactory(GstRtspServer.RTSPMediaFactory):
    """One media for every path it is mounted on (the default key is per path)."""

    def do_gen_key(self, _url):
        return "shared"


def account(args):
    """Only args.user with args.password may DESCRIBE/PLAY; the server answers 401 otherwise."""
    auth = GstRtspServer.RTSPAuth()
    token = GstRtspServer.RTSPToken()
    token.set_string("media.factory.role", "viewer")
    if args.auth == "digest":
        auth.add_digest(args.user, args.password, token)
        auth.set_supported_methods(GstRtsp.RTSPAuthMethod.DIGEST)
    else:
        auth.add_basic(GstRtspServer.RTSPAuth.make_basic(args.user, args.password), token)
        auth.set_supported_methods(GstRtsp.RTSPAuthMethod.BASIC)
    return auth


def require_account(factory):
    """The viewer role (see account) may reach and build this factory's media."""
    role = "viewer, media.factory.access=(boolean)true, media.factory.construct=(boolean)true"
    factory.add_role_from_structure(Gst.Structure.from_string(role)[0])


def main() -> int:
    args = parse_args()
    Gst.init(None)
    keyint = args.keyint or args.fps
    bitrate = f" bitrate={args.bitrate}" if args.bitrate else ""
    launch = (
        # The ball follows the wall clock: two sessions never stream the same pictures, so the
        # same bytes arriving twice can only be a duplicate (other patterns for the benchmarks).
        f"( videotestsrc is-live=true pattern={args.pattern} animation-mode=wall-time "
        f"! video/x-raw,width={args.width},height={args.height},framerate={args.fps}/1 "
        f"! x264enc tune=zerolatency speed-preset=ultrafast key-int-max={keyint}{bitrate} "
        f"! valve name=gate drop=false "
        f"! rtph264pay name=pay0 pt=96 config-interval=-1 "
        f"{AUDIO_BRANCHES[args.audio]})"
    )
    paths = [args.path] + [f"{args.path}-{n}" for n in range(2, args.mounts + 1)]

    # The valve of every live media: a stall must reach media built before and after the signal.
    valves = {}
    stalled = [False]

    def on_unprepared(media):
        valves.pop(media, None)

    log = open(args.frame_log, "a", buffering=1) if args.frame_log else None

    def on_frame(_pad, info, mount):
        buf = info.get_buffer()
        key = 0 if buf.has_flags(Gst.BufferFlags.DELTA_UNIT) else 1
        pts = buf.pts / Gst.SECOND if buf.pts != Gst.CLOCK_TIME_NONE else -1
        log.write(f"F {time.time():.6f} {pts:.6f} {key} {mount}\n")
        return Gst.PadProbeReturn.OK

    def hold_prepared(media):
        if media.get_status() in (
            GstRtspServer.RTSPMediaStatus.PREPARING,
            GstRtspServer.RTSPMediaStatus.PREPARED,
        ):
            media.prepare(None)
        return GLib.SOURCE_REMOVE

    def on_configure(_factory, media, mount):
        gates = [media.get_element().get_by_name(n) for n in ("gate", "agate")]
        gates = [g for g in gates if g is not None]
        for valve in gates:
            valve.set_property("drop", stalled[0])
        valves[media] = gates
        media.connect("unprepared", on_unprepared)
        if args.one_media:
            # Like a recorder's encoder, the one media runs while no client watches: else the
            # last client leaving unprepares it while another mount's client is joining it,
            # and that client gets an error a real camera never gives (one held prepare).
            GLib.idle_add(hold_prepared, media)
        if log:
            pay = media.get_element().get_by_name("pay0")
            pay.get_static_pad("sink").add_probe(Gst.PadProbeType.BUFFER, on_frame, mount)

    def factory_for(mount):
        factory = SharedFactory() if args.one_media else GstRtspServer.RTSPMediaFactory()
        factory.set_launch(launch)
        # One pipeline for all clients of a mount, like a camera's encoder.
        factory.set_shared(True)
        factory.connect("media-configure", on_configure, mount)
        if args.user:
            require_account(factory)
        return factory

    server = GstRtspServer.RTSPServer()
    server.set_address("127.0.0.1")
    server.set_service(str(args.port))
    if args.user:
        server.set_auth(account(args))
    if args.one_media:
        shared = factory_for("*")
        for path in paths:
            server.get_mount_points().add_factory(path, shared)
    else:
        for path in paths:
            server.get_mount_points().add_factory(path, factory_for(path))

    if log:
        log.write(f"START {os.getpid()} {time.time():.6f}\n")
        clients = [0]

        def on_client(_server, client):
            clients[0] += 1
            name = f"{os.getpid()}.{clients[0]}"

            # Before the PLAY is handled: the first frame this client gets comes after this line.
            def on_play(_client, ctx):
                # Aggregate control may PLAY `<mount>/`: the path names the mount either way.
                path = ctx.uri.abspath.rstrip("/") if ctx.uri is not None else "?"
                log.write(f"PLAY {name} {time.time():.6f} {path}\n")
                return GstRtsp.RTSPStatusCode.OK

            client.connect("pre-play-request", on_play)
            client.connect("closed", lambda _c: log.write(f"CLOSE {name} {time.time():.6f}\n"))

        server.connect("client-connected", on_client)
    if server.attach(None) == 0:
        print(f"cannot listen on 127.0.0.1:{args.port} (port in use?)", file=sys.stderr, flush=True)
        return 1

    loop = GLib.MainLoop()

    def set_stalled(value):
        stalled[0] = value
        for gates in valves.values():
            for valve in gates:
                valve.set_property("drop", value)
        print("STALLED" if value else "RESUMED", flush=True)
        return GLib.SOURCE_CONTINUE

    def quit_loop(*_):
        if log:
            log.write(f"STOP {os.getpid()} {time.time():.6f}\n")
        loop.quit()
        return GLib.SOURCE_REMOVE

    GLib.unix_signal_add(GLib.PRIORITY_DEFAULT, signal.SIGUSR1, set_stalled, True)
    GLib.unix_signal_add(GLib.PRIORITY_DEFAULT, signal.SIGUSR2, set_stalled, False)
    GLib.unix_signal_add(GLib.PRIORITY_DEFAULT, signal.SIGTERM, quit_loop)
    GLib.unix_signal_add(GLib.PRIORITY_DEFAULT, signal.SIGINT, quit_loop)

    if args.exit_on_stdin_eof:
        # A test runner killed with SIGKILL cannot stop us; its end of our stdin closing can.
        def on_stdin(channel, condition):
            if condition & (GLib.IO_HUP | GLib.IO_ERR) or not os.read(channel.unix_get_fd(), 4096):
                return quit_loop()
            return GLib.SOURCE_CONTINUE

        GLib.io_add_watch(
            GLib.IOChannel.unix_new(sys.stdin.fileno()),
            GLib.PRIORITY_DEFAULT,
            GLib.IO_IN | GLib.IO_HUP | GLib.IO_ERR,
            on_stdin,
        )

    print(f"READY rtsp://127.0.0.1:{args.port}{args.path}", flush=True)
    loop.run()
    return 0


if __name__ == "__main__":
    sys.exit(main())
