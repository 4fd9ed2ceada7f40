//! A BERT encoder forward pass in f32 on faer GEMMs, for sentence-transformers models.
//!
//! Sequences are never padded: a batch's tokens are stacked into one `[tokens x hidden]` matrix
//! for the dense layers, and attention runs per sequence over exactly its own tokens. That is
//! what a padded batch with an attention mask computes (masked scores underflow to weight 0)
//! without the wasted work on padding.
//!
//! One forward pass runs on one thread; callers run batches in parallel. Measured here, that
//! beat faer's parallel GEMM inside each layer (no fork-join per product, no idle core while
//! one thread does the element-wise work).

use std::path::Path;

use safetensors::{Dtype, SafeTensors};
use serde::Deserialize;

use super::fastmath::{erf, exp_neg, lane_max, lane_sum, map_in_place, vectorised};
use super::qgemm::{QLinear, QuantScratch, CLIP_RMS, CLIP_RMS_GELU};
use crate::error::{Error, Result};
use faer::Par;

use crate::linalg::matmul_abt;

/// The fields of a Hugging Face `config.json` the encoder needs.
#[derive(Debug, Clone, Deserialize)]
pub(crate) struct BertConfig {
    pub hidden_size: usize,
    pub num_attention_heads: usize,
    pub num_hidden_layers: usize,
    pub intermediate_size: usize,
    pub max_position_embeddings: usize,
    #[serde(default = "default_eps")]
    pub layer_norm_eps: f64,
    #[serde(default = "default_act")]
    pub hidden_act: String,
}

fn default_eps() -> f64 {
    1e-12
}
fn default_act() -> String {
    "gelu".into()
}

struct LayerNorm {
    gamma: Vec<f32>,
    beta: Vec<f32>,
}

struct Linear {
    /// `[out x in]`, row-major, as PyTorch stores it (emptied once quantised).
    weight: Vec<f32>,
    /// The int8 form, with [`Precision::Int8`].
    quantised: Option<QLinear>,
    bias: Vec<f32>,
    out: usize,
    inp: usize,
}

impl Linear {
    fn quantise(&mut self, clip: f32) {
        if QLinear::fits(self.out, self.inp) {
            self.quantised = Some(QLinear::new(&self.weight, self.out, self.inp, clip));
            self.weight = Vec::new();
        }
    }
}

/// How the encoder's dense layers multiply.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Precision {
    /// f32 throughout: sentence-transformers' vectors to cosine 0.9999999.
    #[default]
    F32,
    /// The dense layers in int8 (AVX-512 VNNI where the CPU has it), attention, GELU, softmax
    /// and LayerNorm in f32: about 2x faster here (2.03x on the sample), cosine >= 0.999 to f32 (see `qgemm`).
    Int8,
}

struct Layer {
    /// Query, key and value projections fused into one `[3h x h]` product.
    qkv: Linear,
    attn_out: Linear,
    ln_attn: LayerNorm,
    inter: Linear,
    out: Linear,
    ln_out: LayerNorm,
}

/// A forward pass's working buffers, kept per thread between batches: allocating them afresh
/// (~30 MB per 2,048 tokens) cost a zero-fill each time.
#[derive(Default)]
struct Buffers {
    qkv: Vec<f32>,
    ctx: Vec<f32>,
    tmp: Vec<f32>,
    inter: Vec<f32>,
    quant: QuantScratch,
}

thread_local! {
    static SCRATCH: std::cell::RefCell<Buffers> = std::cell::RefCell::new(Buffers::default());
}

/// The encoder's weights.
pub(crate) struct Bert {
    pub cfg: BertConfig,
    word: Vec<f32>,
    vocab: usize,
    position: Vec<f32>,
    token_type0: Vec<f32>,
    ln_emb: LayerNorm,
    layers: Vec<Layer>,
    eps: f32,
}

struct Weights<'a> {
    st: SafeTensors<'a>,
    prefix: &'static str,
    dir: &'a Path,
}

impl Weights<'_> {
    fn get(&self, name: &str, shape: &[usize]) -> Result<Vec<f32>> {
        let full = format!("{}{name}", self.prefix);
        let t = self.st.tensor(&full).map_err(|_| Error::Model {
            dir: self.dir.to_path_buf(),
            message: format!("model.safetensors has no tensor `{full}`"),
        })?;
        if t.shape() != shape {
            return Err(Error::Model {
                dir: self.dir.to_path_buf(),
                message: format!(
                    "tensor `{full}` has shape {:?}, expected {shape:?}",
                    t.shape()
                ),
            });
        }
        let bytes = t.data();
        match t.dtype() {
            Dtype::F32 => Ok(bytes
                .chunks_exact(4)
                .map(|b| f32::from_le_bytes([b[0], b[1], b[2], b[3]]))
                .collect()),
            Dtype::F16 => Ok(bytes
                .chunks_exact(2)
                .map(|b| f16_to_f32(u16::from_le_bytes([b[0], b[1]])))
                .collect()),
            other => Err(Error::Model {
                dir: self.dir.to_path_buf(),
                message: format!("tensor `{full}` has dtype {other:?}; f32 or f16 expected"),
            }),
        }
    }

    fn linear(&self, name: &str, out: usize, inp: usize) -> Result<Linear> {
        Ok(Linear {
            weight: self.get(&format!("{name}.weight"), &[out, inp])?,
            quantised: None,
            bias: self.get(&format!("{name}.bias"), &[out])?,
            out,
            inp,
        })
    }

    fn layer_norm(&self, name: &str, h: usize) -> Result<LayerNorm> {
        Ok(LayerNorm {
            gamma: self.get(&format!("{name}.weight"), &[h])?,
            beta: self.get(&format!("{name}.bias"), &[h])?,
        })
    }
}

fn f16_to_f32(h: u16) -> f32 {
    let sign = u32::from(h >> 15) << 31;
    let exp = (h >> 10) & 0x1f;
    let frac = u32::from(h & 0x3ff);
    let bits = match exp {
        0 if frac == 0 => sign,
        0 => {
            // Subnormal: renormalise.
            let mut e = 127 - 15 + 1;
            let mut f = frac;
            while f & 0x400 == 0 {
                f <<= 1;
                e -= 1;
            }
            sign | ((e as u32) << 23) | ((f & 0x3ff) << 13)
        }
        0x1f => sign | 0x7f80_0000 | (frac << 13),
        _ => sign | ((u32::from(exp) + 127 - 15) << 23) | (frac << 13),
    };
    f32::from_bits(bits)
}

impl Bert {
    /// Loads `config.json` from a model directory and the weights from the bytes of its
    /// `model.safetensors`.
    pub fn load(dir: &Path, safetensors: &[u8], precision: Precision) -> Result<Bert> {
        let model_err = |message: String| Error::Model {
            dir: dir.to_path_buf(),
            message,
        };
        let cfg_path = dir.join("config.json");
        let cfg_text = std::fs::read_to_string(&cfg_path).map_err(|e| Error::io(&cfg_path, e))?;
        let cfg: BertConfig =
            serde_json::from_str(&cfg_text).map_err(|e| model_err(format!("config.json: {e}")))?;
        if cfg.hidden_act != "gelu" {
            return Err(model_err(format!(
                "hidden_act {:?} is not supported (only BERT's exact \"gelu\")",
                cfg.hidden_act
            )));
        }
        if cfg.num_attention_heads == 0 || !cfg.hidden_size.is_multiple_of(cfg.num_attention_heads)
        {
            return Err(model_err(format!(
                "hidden_size {} is not a multiple of num_attention_heads {}",
                cfg.hidden_size, cfg.num_attention_heads
            )));
        }
        let st = SafeTensors::deserialize(safetensors)
            .map_err(|e| model_err(format!("model.safetensors: {e}")))?;
        let prefix = if st.names().iter().any(|n| n.starts_with("bert.")) {
            "bert."
        } else {
            ""
        };
        let w = Weights { st, prefix, dir };
        let h = cfg.hidden_size;
        let inter = cfg.intermediate_size;
        let word_shape =
            w.st.tensor(&format!("{prefix}embeddings.word_embeddings.weight"))
                .map(|t| t.shape().to_vec())
                .map_err(|_| model_err("no embeddings.word_embeddings.weight".into()))?;
        let vocab = word_shape[0];
        let word = w.get("embeddings.word_embeddings.weight", &[vocab, h])?;
        let position = w.get(
            "embeddings.position_embeddings.weight",
            &[cfg.max_position_embeddings, h],
        )?;
        let type_shape =
            w.st.tensor(&format!("{prefix}embeddings.token_type_embeddings.weight"))
                .map(|t| t.shape().to_vec())
                .map_err(|_| model_err("no embeddings.token_type_embeddings.weight".into()))?;
        let token_types = w.get(
            "embeddings.token_type_embeddings.weight",
            &[type_shape[0], h],
        )?;
        let token_type0 = token_types[..h].to_vec();
        let ln_emb = w.layer_norm("embeddings.LayerNorm", h)?;
        let mut layers = Vec::with_capacity(cfg.num_hidden_layers);
        for l in 0..cfg.num_hidden_layers {
            let p = format!("encoder.layer.{l}");
            let q = w.linear(&format!("{p}.attention.self.query"), h, h)?;
            let k = w.linear(&format!("{p}.attention.self.key"), h, h)?;
            let v = w.linear(&format!("{p}.attention.self.value"), h, h)?;
            let qkv = Linear {
                weight: [q.weight, k.weight, v.weight].concat(),
                quantised: None,
                bias: [q.bias, k.bias, v.bias].concat(),
                out: 3 * h,
                inp: h,
            };
            layers.push(Layer {
                qkv,
                attn_out: w.linear(&format!("{p}.attention.output.dense"), h, h)?,
                ln_attn: w.layer_norm(&format!("{p}.attention.output.LayerNorm"), h)?,
                inter: w.linear(&format!("{p}.intermediate.dense"), inter, h)?,
                out: w.linear(&format!("{p}.output.dense"), h, inter)?,
                ln_out: w.layer_norm(&format!("{p}.output.LayerNorm"), h)?,
            });
        }
        if precision == Precision::Int8 {
            use rayon::prelude::*;
            let mut linears: Vec<(&mut Linear, f32)> = Vec::new();
            for l in &mut layers {
                linears.push((&mut l.qkv, CLIP_RMS));
                linears.push((&mut l.attn_out, CLIP_RMS));
                linears.push((&mut l.inter, CLIP_RMS));
                linears.push((&mut l.out, CLIP_RMS_GELU));
            }
            linears
                .into_par_iter()
                .for_each(|(lin, clip)| lin.quantise(clip));
        }
        let eps = cfg.layer_norm_eps as f32;
        Ok(Bert {
            cfg,
            word,
            vocab,
            position,
            token_type0,
            ln_emb,
            layers,
            eps,
        })
    }

    /// Runs the encoder over sequences of token ids (special tokens included, each no longer
    /// than `max_position_embeddings`) and returns the last hidden states, `[total tokens x h]`,
    /// sequences stacked in order.
    pub fn forward(&self, seqs: &[&[u32]]) -> Vec<f32> {
        let h = self.cfg.hidden_size;
        let total: usize = seqs.iter().map(|s| s.len()).sum();
        let mut x = vec![0.0f32; total * h];
        // Embeddings: word + position + token type 0, then LayerNorm.
        let mut row = 0;
        for seq in seqs {
            for (pos, &id) in seq.iter().enumerate() {
                let id = (id as usize).min(self.vocab - 1);
                let dst = &mut x[row * h..(row + 1) * h];
                let w = &self.word[id * h..(id + 1) * h];
                let p = &self.position[pos * h..(pos + 1) * h];
                for j in 0..h {
                    dst[j] = w[j] + p[j] + self.token_type0[j];
                }
                row += 1;
            }
        }
        layer_norm_rows(&mut x, &self.ln_emb, h, self.eps);

        let lens: Vec<usize> = seqs.iter().map(|s| s.len()).collect();
        SCRATCH.with_borrow_mut(|b| {
            let Buffers {
                qkv,
                ctx,
                tmp,
                inter,
                quant,
            } = b;
            self.layers_forward(&mut x, &lens, (qkv, ctx, tmp, inter), quant);
        });
        x
    }

    fn layers_forward(
        &self,
        x: &mut [f32],
        lens: &[usize],
        (qkv, ctx, tmp, inter): (&mut Vec<f32>, &mut Vec<f32>, &mut Vec<f32>, &mut Vec<f32>),
        s: &mut QuantScratch,
    ) {
        let h = self.cfg.hidden_size;
        let total: usize = lens.iter().sum();
        // Every buffer is overwritten before it is read: grown, never cleared.
        for (buf, width) in [
            (&mut *qkv, 3 * h),
            (&mut *ctx, h),
            (&mut *tmp, h),
            (&mut *inter, self.cfg.intermediate_size),
        ] {
            if buf.len() < total * width {
                buf.resize(total * width, 0.0);
            }
        }
        let (qkv, ctx) = (&mut qkv[..total * 3 * h], &mut ctx[..total * h]);
        let (tmp, inter) = (
            &mut tmp[..total * h],
            &mut inter[..total * self.cfg.intermediate_size],
        );
        for layer in &self.layers {
            linear(qkv, x, &layer.qkv, total, s);
            self.attention(qkv, ctx, lens);
            linear(tmp, ctx, &layer.attn_out, total, s);
            add_layer_norm_rows(x, tmp, &layer.ln_attn, h, self.eps);
            linear(inter, x, &layer.inter, total, s);
            gelu_in_place(inter);
            linear(tmp, inter, &layer.out, total, s);
            add_layer_norm_rows(x, tmp, &layer.ln_out, h, self.eps);
        }
    }

    /// Scaled dot-product attention per sequence and head.
    fn attention(&self, qkv: &[f32], ctx: &mut [f32], lens: &[usize]) {
        let h = self.cfg.hidden_size;
        let heads = self.cfg.num_attention_heads;
        let hd = h / heads;
        let scale = 1.0 / (hd as f32).sqrt();
        // Split ctx into one contiguous block of rows per sequence.
        let mut blocks: Vec<(usize, usize, &mut [f32])> = Vec::with_capacity(lens.len());
        let mut rest = ctx;
        let mut start = 0;
        for &len in lens {
            let (head, tail) = rest.split_at_mut(len * h);
            blocks.push((start, len, head));
            rest = tail;
            start += len;
        }
        blocks.into_iter().for_each(|(start, len, out)| {
            if len == 0 {
                return;
            }
            let mut scores = vec![0.0f32; len * len];
            // Each head's q, k, v copied to contiguous `len x hd` blocks: the GEMMs then see
            // unit-stride operands, and the copies are O(len·h), small beside the products.
            let mut q = vec![0.0f32; len * hd];
            let mut k = vec![0.0f32; len * hd];
            let mut v = vec![0.0f32; len * hd];
            let mut o = vec![0.0f32; len * hd];
            let base = &qkv[start * 3 * h..(start + len) * 3 * h];
            for head in 0..heads {
                for r in 0..len {
                    let row = &base[r * 3 * h..(r + 1) * 3 * h];
                    let c = head * hd;
                    q[r * hd..(r + 1) * hd].copy_from_slice(&row[c..c + hd]);
                    k[r * hd..(r + 1) * hd].copy_from_slice(&row[h + c..h + c + hd]);
                    v[r * hd..(r + 1) * hd].copy_from_slice(&row[2 * h + c..2 * h + c + hd]);
                }
                // scores = q · kᵀ · scale
                matmul_abt(&mut scores, &q, &k, (len, len, hd), false, Par::Seq);
                softmax_rows(&mut scores, len, scale);
                // o = P · v  (v is len x hd; as `b` of matmul_abt it must be hd x len: use faer
                // directly with contiguous views)
                let p = faer::MatRef::from_row_major_slice(&scores, len, len);
                let vv = faer::MatRef::from_row_major_slice(&v, len, hd);
                let dst = faer::MatMut::from_row_major_slice_mut(&mut o, len, hd);
                faer::linalg::matmul::matmul(dst, faer::Accum::Replace, p, vv, 1.0f32, Par::Seq);
                for r in 0..len {
                    out[r * h + head * hd..r * h + (head + 1) * hd]
                        .copy_from_slice(&o[r * hd..(r + 1) * hd]);
                }
            }
        });
    }
}

/// `out = x · Wᵀ + b` for `rows` rows.
fn linear(out: &mut [f32], x: &[f32], l: &Linear, rows: usize, scratch: &mut QuantScratch) {
    if let Some(q) = &l.quantised {
        q.forward(out, x, &l.bias, rows, scratch);
        return;
    }
    let out = &mut out[..rows * l.out];
    for r in out.chunks_exact_mut(l.out) {
        r.copy_from_slice(&l.bias);
    }
    matmul_abt(
        out,
        &x[..rows * l.inp],
        &l.weight,
        (rows, l.out, l.inp),
        true,
        Par::Seq,
    );
}

vectorised! {
    fn layer_norm_rows(x: &mut [f32], ln: &LayerNorm, h: usize, eps: f32) {
        x.chunks_exact_mut(h).for_each(|row| layer_norm(row, ln, eps));
    }
}

vectorised! {
    /// `x = LayerNorm(x + y)`, row by row.
    fn add_layer_norm_rows(x: &mut [f32], y: &[f32], ln: &LayerNorm, h: usize, eps: f32) {
        for (row, add) in x.chunks_exact_mut(h).zip(y.chunks_exact(h)) {
            row.iter_mut().zip(add).for_each(|(a, b)| *a += b);
            layer_norm(row, ln, eps);
        }
    }
}

vectorised! {
    /// Each `len`-long row of `scores` becomes `softmax(row · scale)`.
    fn softmax_rows(scores: &mut [f32], len: usize, scale: f32) {
        for r in scores.chunks_exact_mut(len) {
            softmax_scaled(r, scale);
        }
    }
}

#[inline(always)]
fn layer_norm(row: &mut [f32], ln: &LayerNorm, eps: f32) {
    let n = row.len() as f32;
    let mean = lane_sum(row) / n;
    let mut sq = [0f32; 16];
    let mut chunks = row.chunks_exact(16);
    for c in &mut chunks {
        for i in 0..16 {
            sq[i] += (c[i] - mean) * (c[i] - mean);
        }
    }
    let var = (lane_sum(&sq)
        + chunks
            .remainder()
            .iter()
            .map(|v| (v - mean) * (v - mean))
            .sum::<f32>())
        / n;
    let inv = 1.0 / (var + eps).sqrt();
    for ((v, g), b) in row.iter_mut().zip(&ln.gamma).zip(&ln.beta) {
        *v = (*v - mean) * inv * g + b;
    }
}

/// BERT's exact GELU: `x · Φ(x) = 0.5 · x · (1 + erf(x / √2))`.
fn gelu_in_place(x: &mut [f32]) {
    map_in_place(x, |v| {
        0.5 * v * (1.0 + erf(v * std::f32::consts::FRAC_1_SQRT_2))
    });
}

/// `softmax(r · scale)` in place (`scale > 0`).
#[inline(always)]
fn softmax_scaled(r: &mut [f32], scale: f32) {
    // max(v · scale) = max(v) · scale: rounding is monotonic.
    let max = lane_max(r) * scale;
    r.iter_mut().for_each(|v| *v = exp_neg(*v * scale - max));
    let inv = 1.0 / lane_sum(r);
    r.iter_mut().for_each(|v| *v *= inv);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn f16_conversion() {
        assert_eq!(f16_to_f32(0x3c00), 1.0);
        assert_eq!(f16_to_f32(0xc000), -2.0);
        assert_eq!(f16_to_f32(0x0000), 0.0);
        assert_eq!(f16_to_f32(0x3555), 0.333_251_95);
        assert_eq!(f16_to_f32(0x0001), 5.960_464_5e-8);
        assert!(f16_to_f32(0x7c00).is_infinite());
    }

    #[test]
    fn softmax_sums_to_one() {
        let mut r = vec![1.0, 2.0, 3.0, -1e30];
        softmax_scaled(&mut r, 1.0);
        assert!((r.iter().sum::<f32>() - 1.0).abs() < 1e-6);
        assert!(r[3] < 1e-30, "a -inf score gets (almost) no weight");
        assert!(r[2] > r[1] && r[1] > r[0]);
    }

    #[test]
    fn gelu_matches_reference_values() {
        // torch.nn.functional.gelu on these inputs.
        let mut x = vec![-3.0, -1.0, 0.0, 0.5, 2.0];
        gelu_in_place(&mut x);
        let want = [-0.004_049_73, -0.158_655_26, 0.0, 0.345_731_1, 1.954_5];
        for (g, w) in x.iter().zip(want) {
            assert!((g - w).abs() < 1e-4, "{g} vs {w}");
        }
    }
}
