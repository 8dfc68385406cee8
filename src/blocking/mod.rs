//! Blocking adapters (placeholder).
