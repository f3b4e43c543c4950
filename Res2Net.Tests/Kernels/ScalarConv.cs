namespace Res2Net.Tests.Kernels;

/// <summary>
/// A deliberately plain conv in float64, the reference for kernels whose cases have no PyTorch fixture: PyTorch's
/// definition (cross-correlation, zero padding) as nested loops, the input summed with the second input in float32
/// first (as the network's <c>sp + spx[i]</c> is), the tail's channels after the source's, then bias, residual and
/// ReLU. <see cref="ConvKernelTests.ScalarReferenceEqualsPyTorch"/> holds it to PyTorch's fixtures.
/// </summary>
internal static class ScalarConv
{
    /// <param name="weight">PyTorch's layout, [out, in, k, k].</param>
    /// <param name="source">[<see cref="ConvShape.SourceChannels"/>, height, width].</param>
    /// <param name="second">[in, height, width] when the shape is summed.</param>
    /// <param name="tail">[in − tail channel, tail height, tail width] when the shape has a tail, read at the tail's stride.</param>
    /// <param name="residual">[out, out height, out width] when the shape has one.</param>
    public static double[] Run(ConvShape s, float[] weight, float[] bias, float[] source, float[]? second, float[]? tail, float[]? residual)
    {
        int plane = s.Height * s.Width, k = s.Kernel;
        var output = new double[s.Out * s.Pixels];
        for (int co = 0; co < s.Out; co++)
        {
            for (int oy = 0; oy < s.OutHeight; oy++)
            {
                for (int ox = 0; ox < s.OutWidth; ox++)
                {
                    double sum = 0;
                    for (int ci = 0; ci < s.In; ci++)
                    {
                        for (int ky = 0; ky < k; ky++)
                        {
                            int iy = oy * s.Stride - s.Padding + ky;
                            if (iy < 0 || iy >= s.Height) continue;
                            for (int kx = 0; kx < k; kx++)
                            {
                                int ix = ox * s.Stride - s.Padding + kx;
                                if (ix < 0 || ix >= s.Width) continue;
                                float x = ci < s.SourceChannels || tail == null
                                    ? Input(ci, iy * s.Width + ix)
                                    : tail[(ci - s.SourceChannels) * s.TailRows * s.TailColumns + s.TailPixel(iy, ix)];
                                sum += (double)weight[((co * s.In + ci) * k + ky) * k + kx] * x;
                            }
                        }
                    }
                    int at = (co * s.OutHeight + oy) * s.OutWidth + ox;
                    sum += bias[co];
                    if (residual != null) sum += residual[at];
                    output[at] = s.Relu ? Math.Max(sum, 0) : sum;
                }
            }
        }
        return output;

        float Input(int channel, int pixel)
        {
            if (second != null) return source[channel * plane + pixel] + second[channel * plane + pixel];
            return source[channel * plane + pixel];
        }
    }
}
