using System.Buffers;
using System.Globalization;
using System.Text.Json;
using Res2Net.Runtime.IO;
using Res2Net.Runtime.Networks;

namespace Res2Net.Serving;

/// <summary>An Open Inference Protocol infer request, read and checked: its images' preprocessed input and its id.</summary>
/// <param name="Id">The request's <c>id</c>, echoed in the answer.</param>
/// <param name="Count">Images in the request, N of its shape.</param>
/// <param name="Input">Rented from <see cref="ArrayPool{T}.Shared"/>: <paramref name="Count"/> images, CHW, back to back.</param>
internal sealed record InferRequest(string? Id, float[] Input, int Count);

/// <summary>
/// Reads the JSON body of <c>POST /v2/models/{name}/infer</c> (the Open Inference Protocol's REST infer request):
/// <code>
/// {"id": "…", "inputs": [{"name": "input", "shape": [N, 3, H, W], "datatype": "FP32", "data": [ … ]}],
///  "outputs": [{"name": "logits"}]}
/// </code>
/// <c>data</c> is row-major, flat or nested; <c>id</c>, <c>parameters</c> and <c>outputs</c> are optional. Every problem
/// is a <see cref="ServingError"/> 400 naming the field (<c>inputs[0].shape</c>) and what the model expects. Values are
/// parsed straight to float32 (a float written in its shortest form comes back with the same bits).
/// </summary>
internal static class InferRequestReader
{
    /// <summary>The model's one input tensor, in metadata and requests.</summary>
    public const string InputName = "input";

    /// <summary>The model's one output tensor: <c>[N, classes]</c> FP32 logits.</summary>
    public const string OutputName = "logits";

    public const string DataType = "FP32";

    private const int MaxIdLength = 256;

    /// <exception cref="ServingError">400: the body is not JSON, not an infer request, or does not fit the model.</exception>
    public static InferRequest Read(ReadOnlySpan<byte> body, ServedModel model, int maxBatch)
    {
        if (body.IsEmpty) throw ServingError.BadRequest("the request has no body; send an infer request: {\"inputs\": [{\"name\": \"input\", \"shape\": [N, 3, H, W], \"datatype\": \"FP32\", \"data\": [...]}]}");
        var info = model.Info;
        float[] data = ArrayPool<float>.Shared.Rent(maxBatch * info.InputElements);
        try
        {
            var reader = new Utf8JsonReader(body, new JsonReaderOptions { MaxDepth = 32 });
            var request = ReadRoot(ref reader, data, model, maxBatch);
            return request;
        }
        catch (JsonException e)
        {
            ArrayPool<float>.Shared.Return(data);
            throw ServingError.BadRequest($"the body is not valid JSON: {e.Message}");
        }
        catch
        {
            ArrayPool<float>.Shared.Return(data);
            throw;
        }
    }

    private static InferRequest ReadRoot(ref Utf8JsonReader reader, float[] data, ServedModel model, int maxBatch)
    {
        if (!reader.Read() || reader.TokenType != JsonTokenType.StartObject)
            throw ServingError.BadRequest("the body must be a JSON object, an infer request with \"inputs\"");
        string? id = null;
        Tensor? input = null;
        while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
        {
            string field = reader.GetString()!;
            reader.Read();
            switch (field)
            {
                case "id":
                    if (reader.TokenType != JsonTokenType.String) throw ServingError.BadRequest($"\"id\" is {Kind(reader.TokenType)}; it must be a string");
                    id = reader.GetString()!;
                    if (id.Length > MaxIdLength) throw ServingError.BadRequest($"\"id\" is {id.Length} characters long; at most {MaxIdLength}");
                    break;
                case "parameters":
                    Expect(ref reader, JsonTokenType.StartObject, "\"parameters\"", "an object");
                    reader.Skip();
                    break;
                case "inputs":
                    Expect(ref reader, JsonTokenType.StartArray, "\"inputs\"", "an array of tensors");
                    for (int i = 0; reader.Read() && reader.TokenType != JsonTokenType.EndArray; i++)
                    {
                        if (i > 0) throw ServingError.BadRequest($"\"inputs\" holds more than one tensor; {model.Name} takes one, \"{InputName}\" [N, 3, {model.Info.InputHeight}, {model.Info.InputWidth}]");
                        input = ReadTensor(ref reader, $"inputs[{i}]", data, model, maxBatch);
                    }
                    break;
                case "outputs":
                    ReadOutputs(ref reader, model);
                    break;
                default:
                    throw ServingError.BadRequest($"unknown field \"{DisplayText.Shorten(field)}\" in the infer request; expected \"id\", \"parameters\", \"inputs\" and \"outputs\"");
            }
        }
        // Past the object only whitespace may follow; the reader throws on anything else.
        if (reader.Read()) throw ServingError.BadRequest("the body holds more than one JSON value");
        if (input is not { } tensor) throw ServingError.BadRequest($"the request has no \"inputs\"; {model.Name} takes one tensor, \"{InputName}\" [N, 3, {model.Info.InputHeight}, {model.Info.InputWidth}] FP32");
        return new InferRequest(id, data, tensor.Count);
    }

    private readonly record struct Tensor(int Count);

    private static Tensor ReadTensor(ref Utf8JsonReader reader, string where, float[] data, ServedModel model, int maxBatch)
    {
        var info = model.Info;
        Expect(ref reader, JsonTokenType.StartObject, where, "an object with \"name\", \"shape\", \"datatype\" and \"data\"");
        string? name = null, datatype = null;
        List<long>? shape = null;
        int values = -1;
        while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
        {
            string field = reader.GetString()!;
            reader.Read();
            switch (field)
            {
                case "name":
                    Expect(ref reader, JsonTokenType.String, $"{where}.name", "a string");
                    name = reader.GetString();
                    break;
                case "datatype":
                    Expect(ref reader, JsonTokenType.String, $"{where}.datatype", "a string");
                    datatype = reader.GetString();
                    break;
                case "shape":
                    shape = ReadShape(ref reader, $"{where}.shape");
                    break;
                case "parameters":
                    ReadTensorParameters(ref reader, $"{where}.parameters");
                    break;
                case "data":
                    // A shape given first that asks for too many images is named as such, not as data past the limit.
                    if (shape is { Count: > 0 } && shape[0] > maxBatch) throw TooManyImages(where, shape, maxBatch);
                    values = ReadData(ref reader, $"{where}.data", data, maxBatch, info);
                    break;
                default:
                    throw ServingError.BadRequest($"unknown field \"{DisplayText.Shorten(field)}\" in {where}; expected \"name\", \"shape\", \"datatype\", \"parameters\" and \"data\"");
            }
        }

        string expectedShape = $"[N, 3, {info.InputHeight}, {info.InputWidth}] with N from 1 to {maxBatch} (--max-batch)";
        if (name == null) throw ServingError.BadRequest($"{where} has no \"name\"; {model.Name}'s input is \"{InputName}\"");
        if (name != InputName) throw ServingError.BadRequest($"{where}.name is \"{DisplayText.Shorten(name)}\"; {model.Name}'s input is \"{InputName}\"");
        if (datatype == null) throw ServingError.BadRequest($"{where} has no \"datatype\"; {model.Name} takes {DataType}");
        if (datatype != DataType) throw ServingError.BadRequest($"{where}.datatype is \"{DisplayText.Shorten(datatype)}\"; {model.Name} takes {DataType}");
        if (shape == null) throw ServingError.BadRequest($"{where} has no \"shape\"; {model.Name} takes {expectedShape}");
        string given = $"[{string.Join(", ", shape)}]";
        if (shape.Count != 4 || shape[1] != 3 || shape[2] != info.InputHeight || shape[3] != info.InputWidth || shape[0] < 1)
            throw ServingError.BadRequest($"{where}.shape is {given}; {model.Name} takes {expectedShape}");
        if (shape[0] > maxBatch) throw TooManyImages(where, shape, maxBatch);
        if (values < 0) throw ServingError.BadRequest($"{where} has no \"data\"; it holds the {given} values, row-major");
        long needed = shape[0] * info.InputElements;
        if (values != needed) throw ServingError.BadRequest($"{where}.data holds {values} values; shape {given} needs {needed}");
        return new Tensor((int)shape[0]);
    }

    private static ServingError TooManyImages(string where, List<long> shape, int maxBatch) =>
        ServingError.BadRequest($"{where}.shape is [{string.Join(", ", shape)}]: {shape[0]} images are more than the {maxBatch} one request may hold " +
                                "(--max-batch); send them in smaller requests");

    private static List<long> ReadShape(ref Utf8JsonReader reader, string where)
    {
        Expect(ref reader, JsonTokenType.StartArray, where, "an array of integers");
        var shape = new List<long>();
        while (reader.Read() && reader.TokenType != JsonTokenType.EndArray)
        {
            if (reader.TokenType != JsonTokenType.Number || !reader.TryGetInt64(out long dim) || dim < 0)
                throw ServingError.BadRequest($"{where}[{shape.Count}] is {Describe(ref reader)}; a dimension is a whole number, 0 or more");
            if (shape.Count == 8) throw ServingError.BadRequest($"{where} has more than 8 dimensions");
            shape.Add(dim);
        }
        return shape;
    }

    /// <summary>
    /// Reads <c>data</c>, flat or nested to any depth (the protocol allows both), into <paramref name="data"/>; returns how
    /// many values there were. More than a full batch is refused as soon as it is seen.
    /// </summary>
    private static int ReadData(ref Utf8JsonReader reader, string where, float[] data, int maxBatch, NetworkInfo info)
    {
        Expect(ref reader, JsonTokenType.StartArray, where, "an array of numbers");
        int capacity = maxBatch * info.InputElements;
        int count = 0, depth = 1;
        while (depth > 0 && reader.Read())
        {
            switch (reader.TokenType)
            {
                case JsonTokenType.StartArray:
                    depth++;
                    break;
                case JsonTokenType.EndArray:
                    depth--;
                    break;
                case JsonTokenType.Number:
                    if (count == capacity)
                    {
                        throw ServingError.BadRequest(
                            $"{where} holds more than {capacity} values, {maxBatch} images of 3 x {info.InputHeight} x {info.InputWidth} (--max-batch {maxBatch})");
                    }
                    if (!reader.TryGetSingle(out float value) || !float.IsFinite(value))
                        throw ServingError.BadRequest($"{where}: value {count} ({Describe(ref reader)}) is not a finite float32");
                    data[count++] = value;
                    break;
                default:
                    throw ServingError.BadRequest($"{where}: value {count} is {Describe(ref reader)}; {DataType} data are JSON numbers");
            }
        }
        return count;
    }

    private static void ReadTensorParameters(ref Utf8JsonReader reader, string where)
    {
        Expect(ref reader, JsonTokenType.StartObject, where, "an object");
        while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
        {
            string field = reader.GetString()!;
            reader.Read();
            if (field == "binary_data_size")
                throw ServingError.BadRequest($"{where}.binary_data_size: binary tensor data are not supported; send \"data\" as JSON numbers");
            reader.Skip();
        }
    }

    private static void ReadOutputs(ref Utf8JsonReader reader, ServedModel model)
    {
        Expect(ref reader, JsonTokenType.StartArray, "\"outputs\"", "an array of requested outputs");
        for (int i = 0; reader.Read() && reader.TokenType != JsonTokenType.EndArray; i++)
        {
            string where = $"outputs[{i}]";
            Expect(ref reader, JsonTokenType.StartObject, where, "an object with \"name\"");
            while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
            {
                string field = reader.GetString()!;
                reader.Read();
                if (field == "name")
                {
                    Expect(ref reader, JsonTokenType.String, $"{where}.name", "a string");
                    string name = reader.GetString()!;
                    if (name != OutputName) throw ServingError.BadRequest($"{where}.name is \"{DisplayText.Shorten(name)}\"; {model.Name} has one output, \"{OutputName}\"");
                }
                else if (field == "parameters")
                {
                    Expect(ref reader, JsonTokenType.StartObject, $"{where}.parameters", "an object");
                    while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
                    {
                        string parameter = reader.GetString()!;
                        reader.Read();
                        if (parameter is "binary_data" && reader.TokenType == JsonTokenType.True)
                            throw ServingError.BadRequest($"{where}.parameters.binary_data: binary tensor data are not supported; the logits come as JSON numbers");
                        if (parameter is "classification")
                            throw ServingError.BadRequest($"{where}.parameters.classification: the classification extension is not supported; POST the image to /predictions/{model.Name} for the top-k classes");
                        reader.Skip();
                    }
                }
                else
                {
                    throw ServingError.BadRequest($"unknown field \"{DisplayText.Shorten(field)}\" in {where}; expected \"name\" and \"parameters\"");
                }
            }
        }
    }

    private static void Expect(ref Utf8JsonReader reader, JsonTokenType token, string where, string what)
    {
        if (reader.TokenType != token) throw ServingError.BadRequest($"{where} is {Describe(ref reader)}; it must be {what}");
    }

    /// <summary>What a value is, for a message: <c>the string "abc"</c>, <c>the number 1e40</c>, <c>an object</c>.</summary>
    private static string Describe(ref Utf8JsonReader reader) => reader.TokenType switch
    {
        JsonTokenType.String => $"the string \"{DisplayText.Shorten(reader.GetString()!)}\"",
        JsonTokenType.Number => $"the number {DisplayText.Shorten(System.Text.Encoding.UTF8.GetString(reader.ValueSpan))}",
        _ => Kind(reader.TokenType),
    };

    private static string Kind(JsonTokenType token) => token switch
    {
        JsonTokenType.StartObject => "an object",
        JsonTokenType.StartArray => "an array",
        JsonTokenType.String => "a string",
        JsonTokenType.Number => "a number",
        JsonTokenType.True or JsonTokenType.False => "a boolean",
        JsonTokenType.Null => "null",
        _ => token.ToString().ToLower(CultureInfo.InvariantCulture),
    };
}
