namespace Res2Net.Tests.Forward;

/// <summary>
/// How far our float32 results may be from PyTorch's. Both sides compute in float32 but sum in different
/// orders (GEMM blocking, FMA, BatchNorm folded into the weights instead of applied after the conv), so each
/// output differs by a few units in the last place per accumulation, growing roughly with √(K) and depth.
/// </summary>
internal static class Tolerances
{
    /// <summary>Logits: the product's promise (issue 2), absolute, for logits of magnitude 1 to 50.</summary>
    public const double LogitsAbsolute = 2e-3;

    /// <summary>
    /// Stage outputs: max |difference| relative to the tensor's largest magnitude. Float32 has 6e-8 relative
    /// precision; a K ≤ 2048 dot product reorders to ~√K · 6e-8 ≈ 3e-6, and 30+ layers compound it to ~1e-5.
    /// 1e-4 leaves a factor 10 and still catches any wrong tap, offset or scale (those err by 1e-1 or more).
    /// </summary>
    public const double StageRelative = 1e-4;

    /// <summary>
    /// Any output (stem, stage or logits) against the reference interpreter (Reference/ReferenceRes2Net), relative to
    /// the output's scale: its largest magnitude, or for the logits the largest sum of |terms| of the classifier
    /// (a single logit can cancel to near 0 while its terms, and its rounding, stay large). The interpreter computes
    /// in double, so only the other side rounds to float32: the argument above holds for one float32 computation
    /// instead of two. The random specs of <see cref="DifferentialTests"/> reach K = 2304 (a 3×3 conv over 256
    /// channels), ~√K · 6e-8 ≈ 3e-6 per layer, and up to ~90 layers in series (a stem of 3, then 12 blocks of up to
    /// 9 convs through the hierarchical splits); errors that compound like a random walk give ~√90 · 3e-6 ≈ 3e-5, and
    /// 1e-4 leaves a factor 3 over that estimate. Measured (2026-12-01, Zen 4): at most 1.9e-6 (32 u, u = 2^-24) over
    /// 46 random specs, on the AVX-512 and the AVX2 paths alike, and at most 6e-7 for PyTorch's fixtures: 50 times
    /// below. A bug moves outputs by far more: one lost 3×3 tap by 2.6e-2 of the scale, two splits swapped by 1
    /// (DifferentialTests' bug tests).
    /// </summary>
    public const double ReferenceRelative = 1e-4;
}
