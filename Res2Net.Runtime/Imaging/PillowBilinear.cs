namespace Res2Net.Runtime.Imaging;

/// <summary>
/// Pillow's <c>Image.resize(size, BILINEAR)</c> on an 8-bit image, reproduced bit for bit (Pillow 9.4,
/// <c>libImaging/Resample.c</c>): a triangle filter widened by the scale when shrinking, weights quantised to
/// 22-bit fixed point, a horizontal pass into an 8-bit image, then a vertical pass. The double-precision steps
/// are written in the same order as Pillow's C so that every weight rounds the same way.
/// </summary>
public static class PillowBilinear
{
    // Pillow's PRECISION_BITS for 8-bit images: 32 - 8 - 2.
    private const int PrecisionBits = 22;

    /// <summary>Resizes <paramref name="source"/> to <paramref name="width"/> x <paramref name="height"/>.</summary>
    public static RgbImage Resize(RgbImage source, int width, int height)
    {
        ArgumentNullException.ThrowIfNull(source);
        if (width <= 0 || height <= 0)
            throw new ArgumentOutOfRangeException(nameof(width), $"target size must be positive, got {width}x{height}");

        // Pillow skips an axis whose size does not change (with a full-image box it would be the identity anyway).
        RgbImage result = source;
        if (width != source.Width)
            result = Horizontal(result, width);
        if (height != source.Height)
            result = Vertical(result, height);
        return ReferenceEquals(result, source) ? new RgbImage(source.Width, source.Height, (byte[])source.Pixels.Clone()) : result;
    }

    /// <summary>Fixed-point filter weights for one axis: output i reads <c>Count[i]</c> inputs from <c>First[i]</c>.</summary>
    internal sealed class Coefficients(int[] first, int[] count, int[] weights, int stride)
    {
        public int[] First { get; } = first;
        public int[] Count { get; } = count;
        /// <summary>Row i holds output i's weights at <c>[i * Stride, i * Stride + Count[i])</c>.</summary>
        public int[] Weights { get; } = weights;
        public int Stride { get; } = stride;
    }

    /// <summary>Pillow's <c>precompute_coeffs</c> with the bilinear filter, then <c>normalize_coeffs_8bpc</c>.</summary>
    internal static Coefficients Compute(int inSize, int outSize)
    {
        double scale = (double)inSize / outSize;
        double filterScale = Math.Max(scale, 1.0);
        double support = 1.0 * filterScale; // the bilinear filter's support is 1
        int stride = (int)Math.Ceiling(support) * 2 + 1;

        var first = new int[outSize];
        var count = new int[outSize];
        var weights = new int[outSize * stride];
        var k = new double[stride];
        for (int i = 0; i < outSize; i++)
        {
            double center = (i + 0.5) * scale;
            double ss = 1.0 / filterScale; // Pillow multiplies by the reciprocal rather than dividing; same steps, same doubles
            int xmin = Math.Max((int)(center - support + 0.5), 0);
            int xmax = Math.Min((int)(center + support + 0.5), inSize) - xmin;
            double sum = 0;
            for (int x = 0; x < xmax; x++)
            {
                double w = Triangle((x + xmin - center + 0.5) * ss);
                k[x] = w;
                sum += w;
            }
            for (int x = 0; x < xmax; x++)
            {
                if (sum != 0.0)
                    k[x] /= sum;
                // Bilinear weights are never negative, so Pillow's negative branch (-0.5) is not needed.
                weights[i * stride + x] = (int)(0.5 + k[x] * (1 << PrecisionBits));
            }
            first[i] = xmin;
            count[i] = xmax;
        }
        return new Coefficients(first, count, weights, stride);
    }

    private static double Triangle(double x)
    {
        if (x < 0.0)
            x = -x;
        return x < 1.0 ? 1.0 - x : 0.0;
    }

    private static RgbImage Horizontal(RgbImage src, int outWidth)
    {
        Coefficients c = Compute(src.Width, outWidth);
        var dst = new RgbImage(outWidth, src.Height);
        byte[] s = src.Pixels, d = dst.Pixels;
        int inRow = src.Width * 3, outRow = outWidth * 3;
        for (int y = 0; y < src.Height; y++)
        {
            int rowBase = y * inRow;
            for (int x = 0; x < outWidth; x++)
            {
                int r = 1 << (PrecisionBits - 1), g = r, b = r;
                int wBase = x * c.Stride, p = rowBase + c.First[x] * 3;
                for (int t = 0; t < c.Count[x]; t++, p += 3)
                {
                    int w = c.Weights[wBase + t];
                    r += s[p] * w;
                    g += s[p + 1] * w;
                    b += s[p + 2] * w;
                }
                int o = y * outRow + x * 3;
                d[o] = Clip8(r);
                d[o + 1] = Clip8(g);
                d[o + 2] = Clip8(b);
            }
        }
        return dst;
    }

    private static RgbImage Vertical(RgbImage src, int outHeight)
    {
        Coefficients c = Compute(src.Height, outHeight);
        var dst = new RgbImage(src.Width, outHeight);
        byte[] s = src.Pixels, d = dst.Pixels;
        int row = src.Width * 3;
        var acc = new int[row];
        for (int y = 0; y < outHeight; y++)
        {
            // Row-at-a-time accumulation visits memory in order; integer sums do not depend on the order.
            Array.Fill(acc, 1 << (PrecisionBits - 1));
            int wBase = y * c.Stride;
            for (int t = 0; t < c.Count[y]; t++)
            {
                int w = c.Weights[wBase + t];
                int p = (c.First[y] + t) * row;
                for (int i = 0; i < row; i++)
                    acc[i] += s[p + i] * w;
            }
            int o = y * row;
            for (int i = 0; i < row; i++)
                d[o + i] = Clip8(acc[i]);
        }
        return dst;
    }

    private static byte Clip8(int v) => (byte)Math.Clamp(v >> PrecisionBits, 0, 255);
}
