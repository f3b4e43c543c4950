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
    public static unsafe RgbImage Resize(RgbImage source, int width, int height)
    {
        ArgumentNullException.ThrowIfNull(source);
        if (width <= 0 || height <= 0)
            throw new ArgumentOutOfRangeException(nameof(width), $"target size must be positive, got {width}x{height}");
        fixed (byte* p = source.Pixels)
            return ResizeWindow(PixelView.Oriented(p, source.Width, source.Height, 3, 1), width, height, new CropBox(0, 0, width, height));
    }

    /// <summary>
    /// The part <paramref name="window"/> of <paramref name="source"/> resized to <paramref name="width"/> x
    /// <paramref name="height"/>, computed alone: output pixels of each pass depend only on their own filter taps, so
    /// a centre crop of the resize needs just its own columns of the horizontal pass (over the rows the vertical pass
    /// reads) and its own rows of the vertical pass, bit for bit the same as cropping the full resize. A 16000-pixel
    /// photo or a 1 x 40000 strip (resized to 256 x 10 million) then takes a few megabytes instead of gigabytes.
    /// </summary>
    /// <remarks>
    /// Pillow skips an axis whose size does not change; the filter is then the identity (weights 2^22 and 0, so each
    /// output byte is its input byte), so running the pass anyway gives the same bytes.
    /// </remarks>
    internal static RgbImage ResizeWindow<TSource>(TSource source, int width, int height, CropBox window) where TSource : IRowSource
    {
        if (width <= 0 || height <= 0)
            throw new ArgumentOutOfRangeException(nameof(width), $"target size must be positive, got {width}x{height}");
        if (window.X < 0 || window.Y < 0 || window.Width <= 0 || window.Height <= 0 || window.X + window.Width > width || window.Y + window.Height > height)
            throw new ArgumentOutOfRangeException(nameof(window), $"{window} is not inside {width}x{height}");

        Coefficients columns = Compute(source.Width, width, window.X, window.Width);
        Coefficients rows = Compute(source.Height, height, window.Y, window.Height);
        // The source rows the vertical pass reads: both ends of each filter window move forward with the output row.
        int firstRow = rows.First[0], lastRow = rows.First[^1] + rows.Count[^1];
        var horizontal = new RgbImage(window.Width, lastRow - firstRow);
        Horizontal(source, columns, firstRow, horizontal);
        var result = new RgbImage(window.Width, window.Height);
        Vertical(horizontal, rows, firstRow, result);
        return result;
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
    internal static Coefficients Compute(int inSize, int outSize) => Compute(inSize, outSize, 0, outSize);

    /// <summary>The coefficients of outputs [<paramref name="start"/>, <paramref name="start"/> + <paramref name="count"/>) only, indexed from 0.</summary>
    internal static Coefficients Compute(int inSize, int outSize, int start, int count)
    {
        double scale = (double)inSize / outSize;
        double filterScale = Math.Max(scale, 1.0);
        double support = 1.0 * filterScale; // the bilinear filter's support is 1
        int stride = (int)Math.Ceiling(support) * 2 + 1;

        var first = new int[count];
        var taps = new int[count];
        var weights = new int[count * stride];
        var k = new double[stride];
        for (int o = 0; o < count; o++)
        {
            int i = start + o;
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
                weights[o * stride + x] = (int)(0.5 + k[x] * (1 << PrecisionBits));
            }
            first[o] = xmin;
            taps[o] = xmax;
        }
        return new Coefficients(first, taps, weights, stride);
    }

    private static double Triangle(double x)
    {
        if (x < 0.0)
            x = -x;
        return x < 1.0 ? 1.0 - x : 0.0;
    }

    /// <summary>Rows [firstRow, firstRow + dst.Height) of <paramref name="src"/>, filtered along x into <paramref name="dst"/>.</summary>
    private static unsafe void Horizontal<TSource>(TSource src, Coefficients c, int firstRow, RgbImage dst) where TSource : IRowSource
    {
        long stepX = src.StepX;
        int outWidth = dst.Width;
        fixed (byte* d0 = dst.Pixels)
        {
            byte* d = d0;
            for (int y = 0; y < dst.Height; y++)
            {
                byte* row = src.Row(firstRow + y);
                for (int x = 0; x < outWidth; x++, d += 3)
                {
                    int r = 1 << (PrecisionBits - 1), g = r, b = r;
                    int wBase = x * c.Stride;
                    byte* p = row + c.First[x] * stepX;
                    for (int t = 0; t < c.Count[x]; t++, p += stepX)
                    {
                        int w = c.Weights[wBase + t];
                        r += p[0] * w;
                        g += p[1] * w;
                        b += p[2] * w;
                    }
                    d[0] = Clip8(r);
                    d[1] = Clip8(g);
                    d[2] = Clip8(b);
                }
            }
        }
    }

    /// <summary><paramref name="src"/> (whose row 0 is source row <paramref name="firstRow"/>) filtered along y into <paramref name="dst"/>.</summary>
    private static void Vertical(RgbImage src, Coefficients c, int firstRow, RgbImage dst)
    {
        byte[] s = src.Pixels, d = dst.Pixels;
        int row = src.Width * 3;
        var acc = new int[row];
        for (int y = 0; y < dst.Height; y++)
        {
            // Row-at-a-time accumulation visits memory in order; integer sums do not depend on the order.
            Array.Fill(acc, 1 << (PrecisionBits - 1));
            int wBase = y * c.Stride;
            for (int t = 0; t < c.Count[y]; t++)
            {
                int w = c.Weights[wBase + t];
                int p = (c.First[y] - firstRow + t) * row;
                for (int i = 0; i < row; i++)
                    acc[i] += s[p + i] * w;
            }
            int o = y * row;
            for (int i = 0; i < row; i++)
                d[o + i] = Clip8(acc[i]);
        }
    }

    private static byte Clip8(int v) => (byte)Math.Clamp(v >> PrecisionBits, 0, 255);
}
