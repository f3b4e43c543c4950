namespace Res2Net.Runtime.Inference;

/// <summary>One class and its probability.</summary>
public sealed record ClassScore(int Label, float Score, string ClassName);

/// <summary>
/// What mmpretrain's <c>inference_model</c> returns for one image: <c>pred_label</c>, <c>pred_score</c>,
/// <c>pred_class</c>, <c>pred_scores</c> (softmax over all classes), plus the top-k.
/// </summary>
public sealed record Prediction(int PredLabel, float PredScore, string PredClass, float[] PredScores, IReadOnlyList<ClassScore> TopK)
{
    /// <summary>
    /// Softmax over one image's logits and its top <paramref name="k"/> classes, ranked by logit (ties: lower label
    /// first). <paramref name="k"/> is clamped to 1..number of classes.
    /// </summary>
    public static Prediction FromLogits(ReadOnlySpan<float> logits, IReadOnlyList<string> classNames, int k = 5)
    {
        ArgumentNullException.ThrowIfNull(classNames);
        if (logits.Length == 0) throw new ArgumentException("no logits", nameof(logits));
        if (classNames.Count != logits.Length)
        {
            throw new ArgumentException($"{classNames.Count} class names for {logits.Length} logits", nameof(classNames));
        }
        var scores = Softmax(logits);
        var top = TopIndices(logits, k).Select(i => new ClassScore(i, scores[i], classNames[i])).ToArray();
        return new Prediction(top[0].Label, top[0].Score, top[0].ClassName, scores, top);
    }

    /// <summary>
    /// The labels of the <paramref name="k"/> largest logits, largest first; ties go to the lower label, NaN ranks
    /// last. <paramref name="k"/> is clamped to 1..<c>logits.Length</c>. Softmax is monotonic, so this is also the
    /// ranking of the scores (ranking the logits avoids ties that rounding the probabilities can create).
    /// </summary>
    public static int[] TopIndices(ReadOnlySpan<float> logits, int k)
    {
        if (logits.Length == 0) throw new ArgumentException("no logits", nameof(logits));
        k = Math.Clamp(k, 1, logits.Length);
        var top = new int[k];
        int filled = 0;
        for (int i = 0; i < logits.Length; i++)
        {
            // Insertion into the sorted prefix; k is small (5), so this beats sorting all classes.
            int pos = filled;
            while (pos > 0 && Before(logits[i], logits[top[pos - 1]])) pos--;
            if (pos >= k) continue;
            int last = Math.Min(filled, k - 1);
            for (int j = last; j > pos; j--) top[j] = top[j - 1];
            top[pos] = i;
            if (filled < k) filled++;
        }
        return top;

        // a strictly outranks b (a comes from a later label, so equality keeps the earlier one first).
        static bool Before(float a, float b) => a > b || (float.IsNaN(b) && !float.IsNaN(a));
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
