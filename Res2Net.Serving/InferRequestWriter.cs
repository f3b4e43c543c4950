using System.Text.Json;

namespace Res2Net.Serving;

/// <summary>
/// The client's side of <see cref="InferRequestReader"/>: an Open Inference Protocol infer request for one FP32 tensor,
/// <c>{"id": …, "inputs": [{"name": "input", "shape": […], "datatype": "FP32", "data": […]}]}</c>, the values in
/// their shortest round-trip form, so the server reads back the same bits. For .NET clients, tests and the load benchmark.
/// </summary>
public static class InferRequestWriter
{
    /// <summary>The request as UTF-8 JSON.</summary>
    public static byte[] Write(ReadOnlySpan<float> data, IReadOnlyList<int> shape, string? id = null)
    {
        ArgumentNullException.ThrowIfNull(shape);
        using var stream = new MemoryStream();
        using (var w = new Utf8JsonWriter(stream))
        {
            w.WriteStartObject();
            if (id != null) w.WriteString("id", id);
            w.WriteStartArray("inputs");
            w.WriteStartObject();
            w.WriteString("name", InferRequestReader.InputName);
            w.WriteStartArray("shape");
            foreach (int d in shape) w.WriteNumberValue(d);
            w.WriteEndArray();
            w.WriteString("datatype", InferRequestReader.DataType);
            w.WriteStartArray("data");
            foreach (float v in data) w.WriteNumberValue(v);
            w.WriteEndArray();
            w.WriteEndObject();
            w.WriteEndArray();
            w.WriteEndObject();
        }
        return stream.ToArray();
    }
}
