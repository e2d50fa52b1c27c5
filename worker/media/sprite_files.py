"""The file names of a video's sprite sheet, beside its shot thumbnails: written by
media.thumbnails, read back by the read side (worker.query) and served by the API."""

SPRITE_NAME, INDEX_NAME = "sprite.jpg", "sprite.json"
