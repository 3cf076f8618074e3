"""`siyu fetch wechat`: the WeChat Official Account data APIs → the landing folder's
`wechat_oa/` files (spec/operations.md, "Fetching from WeChat")."""
