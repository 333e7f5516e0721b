"""A prepared session (``prepare``: routine + voice + chimes + timeline), the one renderer
(``render``) and the chimes it mixes in (``chimes``)."""
