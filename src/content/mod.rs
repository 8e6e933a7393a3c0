//! Site folders → immutable sites: front matter and Markdown, themes and templates,
//! prepared responses, the platform's own pages, and the one way tenant files are walked.

pub mod files;
pub mod platform;
pub mod render;
pub mod site;
pub mod theme;
