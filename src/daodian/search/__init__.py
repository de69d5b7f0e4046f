"""Search over products and categories from a per-process index (jieba, pinyin, synonyms), with the stores near
the shopper."""
