using System.Text.Json;
using Res2Net.Runtime.IO;

namespace Res2Net.Runtime.Inference;

/// <summary>
/// A <see cref="Prediction"/> as JSON, the one shape both <c>res2net predict --json</c> and the server's image endpoint
/// (<c>POST /predictions/{model}</c>) answer with: mmpretrain's <c>pred_label</c>, <c>pred_score</c> and
/// <c>pred_class</c> (what its TorchServe handler returns), then the top-k as <c>{label, score, class}</c>, best first.
/// Scores are written as floats (shortest round-trip form); NaN and infinities as <see cref="JsonFloats"/> writes them.
/// </summary>
public static class PredictionJson
{
    /// <summary>Writes one object; <paramref name="input"/>, when given, comes first as <c>"input"</c>.</summary>
    public static void Write(Utf8JsonWriter writer, Prediction prediction, string? input = null)
    {
        ArgumentNullException.ThrowIfNull(writer);
        ArgumentNullException.ThrowIfNull(prediction);
        writer.WriteStartObject();
        if (input != null) writer.WriteString("input", input);
        writer.WriteNumber("pred_label", prediction.PredLabel);
        writer.WriteFloat("pred_score", prediction.PredScore);
        writer.WriteString("pred_class", prediction.PredClass);
        writer.WriteStartArray("topk");
        foreach (var c in prediction.TopK)
        {
            writer.WriteStartObject();
            writer.WriteNumber("label", c.Label);
            writer.WriteFloat("score", c.Score);
            writer.WriteString("class", c.ClassName);
            writer.WriteEndObject();
        }
        writer.WriteEndArray();
        writer.WriteEndObject();
    }
}
