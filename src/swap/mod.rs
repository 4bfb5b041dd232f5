//! Swappers: put the source identity onto target faces.
