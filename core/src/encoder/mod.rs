//! Text embeddings on device: the pieces of a BERT sentence encoder (issue 13).
//!
//! [`tokenizer`] turns text into the token ids a BERT model reads, exactly as HF `tokenizers`
//! does for the WordPiece models (all-MiniLM-L6-v2 and its family).

pub mod tokenizer;
