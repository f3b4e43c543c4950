using Res2Net.Runtime.Imaging;
using Res2Net.Runtime.Inference;

namespace Res2Net.Runtime.Visualization;

/// <summary>
/// Draws a class activation map over the crop the network saw, as mmpretrain's <c>tools/visualization/vis_cam.py</c>
/// does through pytorch-grad-cam: the map clipped at 0 and scaled to [0, 1] (<see cref="ActivationMap.Normalized"/>),
/// upsampled bilinearly to the crop (OpenCV's <c>INTER_LINEAR</c>, which pytorch-grad-cam's <c>cv2.resize</c> uses),
/// coloured with <see cref="Viridis"/>, and blended half and half with the crop (<c>show_cam_on_image</c>'s default
/// <c>image_weight=0.5</c>).
/// </summary>
public static class CamOverlay
{
    /// <summary>How much of the crop shows through the heat map.</summary>
    public const float ImageWeight = 0.5f;

    /// <summary>The overlay of <paramref name="map"/> on <paramref name="crop"/>, the size of the crop.</summary>
    public static RgbImage Render(RgbImage crop, ActivationMap map)
    {
        ArgumentNullException.ThrowIfNull(crop);
        ArgumentNullException.ThrowIfNull(map);
        var heat = Upsample(map.Normalized(), map.Width, map.Height, crop.Width, crop.Height);
        var output = new RgbImage(crop.Width, crop.Height);
        for (int i = 0; i < heat.Length; i++)
        {
            var (r, g, b) = Viridis.Color(heat[i]);
            output.Pixels[3 * i] = Blend(crop.Pixels[3 * i], r);
            output.Pixels[3 * i + 1] = Blend(crop.Pixels[3 * i + 1], g);
            output.Pixels[3 * i + 2] = Blend(crop.Pixels[3 * i + 2], b);
        }
        return output;
    }

    /// <summary>
    /// Bilinear resize of a <paramref name="width"/> × <paramref name="height"/> map to <paramref name="outWidth"/> ×
    /// <paramref name="outHeight"/> with half-pixel centres: output pixel x samples source <c>(x + 0.5) · in/out − 0.5</c>,
    /// clamped to the edge pixels (OpenCV <c>INTER_LINEAR</c>, PyTorch <c>align_corners=False</c>).
    /// </summary>
    public static float[] Upsample(float[] map, int width, int height, int outWidth, int outHeight)
    {
        ArgumentNullException.ThrowIfNull(map);
        if (map.Length != width * height) throw new ArgumentException($"{map.Length} values are not {width} x {height}", nameof(map));
        var (x0, x1, fx) = Taps(width, outWidth);
        var (y0, y1, fy) = Taps(height, outHeight);
        var output = new float[outWidth * outHeight];
        for (int y = 0; y < outHeight; y++)
        {
            for (int x = 0; x < outWidth; x++)
            {
                float top = map[y0[y] * width + x0[x]] * (1 - fx[x]) + map[y0[y] * width + x1[x]] * fx[x];
                float bottom = map[y1[y] * width + x0[x]] * (1 - fx[x]) + map[y1[y] * width + x1[x]] * fx[x];
                output[y * outWidth + x] = top * (1 - fy[y]) + bottom * fy[y];
            }
        }
        return output;
    }

    private static (int[] Lower, int[] Upper, float[] Fraction) Taps(int input, int output)
    {
        var lower = new int[output];
        var upper = new int[output];
        var fraction = new float[output];
        double scale = (double)input / output;
        for (int i = 0; i < output; i++)
        {
            double source = Math.Clamp((i + 0.5) * scale - 0.5, 0, input - 1);
            lower[i] = (int)source;
            upper[i] = Math.Min(lower[i] + 1, input - 1);
            fraction[i] = (float)(source - lower[i]);
        }
        return (lower, upper, fraction);
    }

    private static byte Blend(byte image, byte heat) =>
        (byte)Math.Clamp(MathF.Round(ImageWeight * image + (1 - ImageWeight) * heat, MidpointRounding.AwayFromZero), 0, 255);
}
