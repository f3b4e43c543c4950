namespace Res2Net.Runtime.Inference;

/// <summary>
/// The class activation map of Zhou et al. (2016, "Learning Deep Features for Discriminative Localization") for one
/// image and one class: <c>M_c(y, x) = Σ_k w[c, k] · layer4[k, y, x]</c>, <c>w</c> being the classifier's weight.
/// Res2Net ends in global average pooling and one Linear layer, so the map is exact without a backward pass: its mean
/// plus the class's bias is the class's logit, and it equals Grad-CAM's map up to a positive scale.
/// </summary>
/// <param name="Input">The image's name (<see cref="InferenceInput.Name"/>).</param>
/// <param name="Label">The class the map is for.</param>
/// <param name="ClassName">That class's name.</param>
/// <param name="Data">The raw map, <c>[Height, Width]</c> row-major, at layer4's resolution (7 × 7 for a 224 crop); no ReLU, no scaling.</param>
/// <param name="Shape"><c>[Height, Width]</c>.</param>
/// <param name="Prediction">The image's prediction (which class the network chose and how sure it is).</param>
public sealed record ActivationMap(string Input, int Label, string ClassName, float[] Data, int[] Shape, Prediction Prediction)
{
    /// <summary>Rows of the map (layer4's height).</summary>
    public int Height => Shape[0];

    /// <summary>Columns of the map (layer4's width).</summary>
    public int Width => Shape[1];

    /// <summary>
    /// <c>Σ_k weights[k] · features[k, p]</c> for every position p of a <c>[channels, pixels]</c> feature map. Summed in
    /// double and rounded once, so the map adds no rounding error of its own to layer4's.
    /// </summary>
    public static float[] Compute(ReadOnlySpan<float> features, ReadOnlySpan<float> weights, int pixels)
    {
        if (pixels < 1 || features.Length != (long)weights.Length * pixels)
            throw new ArgumentException($"{features.Length} feature values are not {weights.Length} channels x {pixels} pixels", nameof(features));
        var sum = new double[pixels];
        for (int k = 0; k < weights.Length; k++)
        {
            double w = weights[k];
            var channel = features.Slice(k * pixels, pixels);
            for (int p = 0; p < pixels; p++) sum[p] += w * channel[p];
        }
        var map = new float[pixels];
        for (int p = 0; p < pixels; p++) map[p] = (float)sum[p];
        return map;
    }

    /// <summary>
    /// The map as pytorch-grad-cam (which mmpretrain's <c>tools/visualization/vis_cam.py</c> uses) shows it: negative
    /// evidence clipped to 0 (its ReLU), then scaled by the smallest and largest value to [0, 1]. A map with no positive
    /// value is all 0.
    /// </summary>
    public float[] Normalized()
    {
        var relu = Data.Select(v => float.IsNaN(v) ? 0f : Math.Max(v, 0f)).ToArray();
        float min = relu.Min(), max = relu.Max();
        float range = max - min;
        // Grad-CAM's scale_cam_image divides by (1e-7 + max) after subtracting the min; a flat map stays 0 either way.
        return relu.Select(v => range > 0 && float.IsFinite(range) ? (v - min) / range : 0f).ToArray();
    }

    public override string ToString() => $"CAM of {Input} for {Label} ({ClassName}) [{Height}, {Width}]";
}
