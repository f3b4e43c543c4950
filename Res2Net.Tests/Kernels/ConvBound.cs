namespace Res2Net.Tests.Kernels;

/// <summary>
/// How far a float32 conv kernel's output may be from a reference computed in float64 from the very float32 operands
/// (PyTorch's fixtures, rounded once to float32, or <see cref="ScalarConv"/>, not rounded).
/// <para>
/// The kernel sums the K products in float32, in an order set by its tiling, depth slices and thread split, then adds
/// bias and residual, then ReLU. Each float32 rounding errs by at most u = 2^-24 times the magnitude of the value
/// rounded, and every product and partial sum of output (c, y, x) is at most
/// <c>S_c = Σ_i |W[c, i]| · max|x| + |bias[c]| + max|residual|</c>: K roundings of the running sum, at most one per
/// product (Σ u·|w·x| ≤ u·S_c, none with FMA), bias and residual add one each, a float32 reference's own rounding
/// one more, so |ours − reference| ≤ (K + 4)·u·S_c to first order; the second-order terms are below K·u ≈ 2e-5 of
/// that, and ReLU never widens a gap. The bound is (K + 6)·u·S_c, whatever the summation order. For K = 234 it is
/// about 1.4e-5·S_c, while one wrong or missing tap moves an output by |w·x|, typically S_c / 5K ≈ 1e-3·S_c and
/// several times that at its largest (<see cref="ConvKernelTests.BoundCatchesOneMissingTap"/>).
/// </para>
/// </summary>
internal static class ConvBound
{
    /// <summary>The largest |x| a conv of <paramref name="shape"/> multiplies: of the source and tail, or of source + second.</summary>
    public static double MaxInput(ConvShape shape, float[] source, float[]? second, float[]? tail)
    {
        int plane = shape.Height * shape.Width;
        if (second != null)
        {
            double max = 0;
            for (int i = 0; i < shape.In * plane; i++) max = Math.Max(max, Math.Abs(source[i] + second[i]));
            return max;
        }
        double input = MaxAbs(source, shape.SourceChannels * plane);
        return tail == null ? input : Math.Max(input, MaxAbs(tail, (shape.In - shape.SourceChannels) * shape.TailRows * shape.TailColumns));
    }

    public static double MaxAbs(float[] buffer, int count)
    {
        double max = 0;
        for (int i = 0; i < count; i++) max = Math.Max(max, Math.Abs(buffer[i]));
        return max;
    }

    /// <summary>
    /// The largest |actual − expected| / bound over all outputs, and a description of that output; infinite where the
    /// kernel's output is not finite.
    /// </summary>
    public static (double Ratio, string Worst) Compare(ConvShape shape, float[] weight, float[] bias, double maxInput, double maxResidual,
        ReadOnlySpan<float> actual, Func<int, double> expected, string reference)
    {
        int k = shape.Depth, pixels = shape.Pixels;
        double worstRatio = -1;
        string worst = "no output";
        for (int c = 0; c < shape.Out; c++)
        {
            double weights = 0;
            for (int i = 0; i < k; i++) weights += Math.Abs(weight[c * k + i]);
            double scale = weights * maxInput + Math.Abs(bias[c]) + maxResidual;
            double bound = (k + 6) * Math.ScaleB(1.0, -24) * scale;
            for (int j = 0; j < pixels; j++)
            {
                int at = c * pixels + j;
                double want = expected(at);
                double diff = float.IsFinite(actual[at]) ? Math.Abs(actual[at] - want) : double.PositiveInfinity;
                double ratio = diff / bound;
                if (ratio > worstRatio)
                {
                    worstRatio = ratio;
                    worst = $"output [{c}, {j / shape.OutWidth}, {j % shape.OutWidth}] = {actual[at]:R}, {reference} {want:R}: " +
                        $"|diff| {diff:E2} is {ratio:F3} × the bound (K + 6)·2^-24·S = {bound:E2} (K = {k}, S = {scale:F2})";
                }
            }
        }
        return (worstRatio, worst);
    }
}
