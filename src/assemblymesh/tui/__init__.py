"""The terminal UI (Textual): ``tui.app.run`` for ``assemblymesh`` / ``assemblymesh tui``,
``tui.demo.run_demo`` for ``assemblymesh demo``. Peer status comes in through the
``tui.peers.PeerStatusSource`` protocol; the UI itself never touches sockets or keys."""
