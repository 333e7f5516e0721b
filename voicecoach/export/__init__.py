"""A session as an audio file (WAV, MP3, Ogg Opus, M4A) with chapters, subtitles and its
timeline, every file complete or not there at all."""
