using Res2Net.Runtime.Imaging;

namespace Res2Net.Runtime.Inference;

/// <summary>Class activation maps (<see cref="ActivationMap"/>) from the captured layer4 output and the classifier's weights.</summary>
public sealed partial class ImageClassifier
{
    /// <summary>Index of layer4 among <c>extract_feat</c>'s outputs.</summary>
    private const int Layer4 = 4;

    /// <summary>The class activation map of the image file at <paramref name="path"/> for <paramref name="label"/> (default: the predicted class).</summary>
    /// <exception cref="ImageDecodeException">The file cannot be read or decoded.</exception>
    /// <exception cref="ArgumentOutOfRangeException">The label is not a class of the network.</exception>
    public ActivationMap ClassActivationMap(string path, int? label = null) =>
        ClassActivationMaps([InferenceInput.FromFile(path)], label is { } l ? [l] : null)[0];

    /// <summary>The class activation map of decoded pixels; see <see cref="ClassActivationMap(string, int?)"/>.</summary>
    public ActivationMap ClassActivationMap(RgbImage image, int? label = null) =>
        ClassActivationMaps([InferenceInput.FromImage(image)], label is { } l ? [l] : null)[0];

    /// <summary>
    /// Class activation maps of many inputs, <see cref="BatchSize"/> per forward: for each input (in order) one map per
    /// label of <paramref name="labels"/> (in order), or one for its predicted class when <paramref name="labels"/> is
    /// null or empty.
    /// </summary>
    /// <exception cref="ImageDecodeException">An input cannot be decoded; nothing is returned.</exception>
    /// <exception cref="ArgumentOutOfRangeException">A label is not a class of the network.</exception>
    public IReadOnlyList<ActivationMap> ClassActivationMaps(IReadOnlyList<InferenceInput> inputs, IReadOnlyList<int>? labels = null)
    {
        ArgumentNullException.ThrowIfNull(inputs);
        foreach (int label in labels ?? [])
        {
            if ((uint)label >= (uint)Info.NumClasses)
                throw new ArgumentOutOfRangeException(nameof(labels), label, $"{Info.Name} has classes 0 to {Info.NumClasses - 1}");
        }
        // Each class's weight row is read once, however many images use it.
        var rows = new Dictionary<int, float[]>();
        var maps = new List<ActivationMap>();
        for (int start = 0; start < inputs.Count; start += BatchSize)
        {
            var chunk = inputs.Skip(start).Take(BatchSize).ToArray();
            var output = Run(chunk, topK: 5, featureIndices: [Layer4]);
            var layer4 = output.Feature(Layer4);
            int pixels = layer4.Shape[2] * layer4.Shape[3];
            for (int i = 0; i < output.Count; i++)
            {
                var prediction = output.Predictions[i];
                foreach (int label in labels is { Count: > 0 } ? labels : [prediction.PredLabel])
                {
                    if (!rows.TryGetValue(label, out var row)) rows[label] = row = Network.ClassifierWeights(label).Weights;
                    var data = ActivationMap.Compute(layer4.ImageData(i).Span, row, pixels);
                    maps.Add(new ActivationMap(output.Names[i], label, ClassNames[label], data, [layer4.Shape[2], layer4.Shape[3]], prediction));
                }
            }
        }
        return maps;
    }
}
