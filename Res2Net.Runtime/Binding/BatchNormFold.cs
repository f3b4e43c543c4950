namespace Res2Net.Runtime.Binding;

/// <summary>
/// Eval-mode BatchNorm is an affine map per channel, <c>y = s·x + t</c> with <c>s = γ / √(σ² + ε)</c> and
/// <c>t = β − μ·s</c>, so it folds into the conv before it: <c>W' = s·W</c> per output channel, bias <c>t</c>. Computed
/// in double and rounded once, so folding adds no error of its own. The one place the fold is written: the weight
/// binder packs with it and the ONNX exporter writes folded convs with it.
/// </summary>
public static class BatchNormFold
{
    /// <summary>BatchNorm's ε in mmpretrain's (and PyTorch's) default configuration.</summary>
    public const float Epsilon = 1e-5f;

    /// <summary>The scale <c>s</c> (kept in double to multiply the weights) and the shift <c>t</c> of channel <paramref name="c"/>.</summary>
    public static (double Scale, float Shift) Channel(float[] gamma, float[] beta, float[] mean, float[] variance, int c)
    {
        double scale = gamma[c] / Math.Sqrt((double)variance[c] + Epsilon);
        return (scale, (float)(beta[c] - mean[c] * scale));
    }
}
