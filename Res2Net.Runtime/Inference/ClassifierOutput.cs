namespace Res2Net.Runtime.Inference;

/// <summary>What <see cref="ImageClassifier.Run"/> computed for a list of inputs, in input order.</summary>
public sealed class ClassifierOutput
{
    internal ClassifierOutput(IReadOnlyList<string> names, int numClasses, float[] logits, IReadOnlyList<Prediction> predictions,
        IReadOnlyList<FeatureMap> features)
    {
        Names = names;
        NumClasses = numClasses;
        Logits = logits;
        Predictions = predictions;
        Features = features;
    }

    /// <summary>How many inputs.</summary>
    public int Count => Names.Count;

    /// <summary>The inputs' names (<see cref="InferenceInput.Name"/>).</summary>
    public IReadOnlyList<string> Names { get; }

    /// <summary>Classes per input.</summary>
    public int NumClasses { get; }

    /// <summary>All logits, <c>[Count, NumClasses]</c> row-major.</summary>
    public float[] Logits { get; }

    /// <summary>Input <paramref name="n"/>'s logits.</summary>
    public ReadOnlySpan<float> LogitsOf(int n) => Logits.AsSpan(n * NumClasses, NumClasses);

    /// <summary>Per input: label, score, class, softmax scores and top-k.</summary>
    public IReadOnlyList<Prediction> Predictions { get; }

    /// <summary>The requested feature maps, in the order requested, each <c>[Count, C, H, W]</c>; empty when none were.</summary>
    public IReadOnlyList<FeatureMap> Features { get; }

    /// <summary>The feature map with <see cref="FeatureMap.Index"/> <paramref name="index"/> (0 stem, 1-4 layer1-layer4).</summary>
    public FeatureMap Feature(int index) =>
        Features.FirstOrDefault(f => f.Index == index)
        ?? throw new ArgumentOutOfRangeException(nameof(index), index, $"feature {index} was not requested (requested: {string.Join(", ", Features.Select(f => f.Index))})");
}
