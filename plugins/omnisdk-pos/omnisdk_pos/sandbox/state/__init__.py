"""The KiotViet sandbox's state: the shop (``shop``) and who may call it (``access``)."""
