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
}
