//! `embedscope embed`: a corpus' texts to vectors.

use std::path::PathBuf;

use clap::Args;
use embedscope::embed::embed_texts;
use embedscope::io::{npy, write_atomic, write_vectors_parquet, Format};

use crate::args::{output_format, InputArgs, ModelArgs};
use crate::output::{self, print_json};
use crate::progress::Bars;

#[derive(Args)]
pub struct EmbedArgs {
    #[command(flatten)]
    input: InputArgs,
    #[command(flatten)]
    model: ModelArgs,
    /// Output: vectors.npy (float32 matrix) or vectors.parquet (id, embedding).
    #[arg(long)]
    out: PathBuf,
    /// Print a JSON summary on stdout.
    #[arg(long)]
    json: bool,
}

pub fn run(args: &EmbedArgs) -> anyhow::Result<()> {
    let format = output_format(
        &args.out,
        "--out",
        &[Format::Npy, Format::Parquet],
        "the output must end in .npy or .parquet",
    )?;
    let corpus = args.input.load()?;
    let texts = args.input.texts(&corpus, "to embed")?;
    let model = args.model.model()?;
    let mut cache = args.model.cache(model.as_ref())?;
    let (vectors, stats) = embed_texts(model.as_ref(), texts, cache.as_mut(), &Bars::default())?;
    match format {
        Format::Npy => write_atomic(&args.out, |w| {
            npy::write_npy(w, &vectors.as_f32(), vectors.rows(), vectors.dim())
        })?,
        _ => write_vectors_parquet(&args.out, &corpus.ids, &vectors)?,
    }
    if args.json {
        print_json(&output::Embed {
            out: &args.out,
            rows: vectors.rows(),
            dim: vectors.dim(),
            model: &stats.model,
            unique: stats.unique,
            cache_hits: stats.cache_hits,
            embedded: stats.embedded,
            seconds: stats.seconds,
            texts_per_second: stats.texts_per_second(),
        })?;
    } else {
        eprintln!(
            "embedded {} texts ({} distinct, {} from cache) in {:.1} s -> {}",
            stats.texts,
            stats.unique,
            stats.cache_hits,
            stats.seconds,
            args.out.display()
        );
    }
    Ok(())
}
