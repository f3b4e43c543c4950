namespace Res2Net.Runtime.Inference;

/// <summary>One class and its probability.</summary>
public sealed record ClassScore(int Label, float Score, string ClassName);

/// <summary>
/// What mmpretrain's <c>inference_model</c> returns for one image: <c>pred_label</c>, <c>pred_score</c>,
/// <c>pred_class</c>, <c>pred_scores</c> (softmax over all classes), plus the top-k.
/// </summary>
public sealed record Prediction(int PredLabel, float PredScore, string PredClass, float[] PredScores, IReadOnlyList<ClassScore> TopK)
{
    /// <summary>Softmax over one image's logits and its top <paramref name="k"/> classes (ties: lower label first).</summary>
    public static Prediction FromLogits(ReadOnlySpan<float> logits, IReadOnlyList<string> classNames, int k = 5)
    {
        if (logits.Length == 0) throw new ArgumentException("no logits", nameof(logits));
        if (classNames.Count != logits.Length)
        {
            throw new ArgumentException($"{classNames.Count} class names for {logits.Length} logits", nameof(classNames));
        }
        var scores = Softmax(logits);
        var order = Enumerable.Range(0, scores.Length).OrderByDescending(i => scores[i]).ThenBy(i => i).Take(Math.Clamp(k, 1, scores.Length));
        var top = order.Select(i => new ClassScore(i, scores[i], classNames[i])).ToArray();
        return new Prediction(top[0].Label, top[0].Score, top[0].ClassName, scores, top);
    }

    /// <summary>Numerically stable softmax (shifted by the maximum, summed in double).</summary>
    public static float[] Softmax(ReadOnlySpan<float> logits)
    {
        float max = float.NegativeInfinity;
        foreach (float x in logits) max = MathF.Max(max, x);
        var result = new float[logits.Length];
        double sum = 0;
        for (int i = 0; i < logits.Length; i++)
        {
            double e = Math.Exp(logits[i] - (double)max);
            result[i] = (float)e;
            sum += e;
        }
        for (int i = 0; i < result.Length; i++) result[i] = (float)(result[i] / sum);
        return result;
    }
}
