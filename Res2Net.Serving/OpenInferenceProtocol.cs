using System.Diagnostics;
using System.Reflection;
using System.Text.Json;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Res2Net.Runtime.IO;

namespace Res2Net.Serving;

/// <summary>
/// The Open Inference Protocol (KServe's v2 protocol, also Triton's and Seldon's) over REST: server and model health,
/// model metadata, and <c>infer</c> on FP32 tensors in JSON. Health answers are JSON (<c>{"live": true}</c>,
/// <c>{"ready": true}</c>) with status 200, or 503 when not ready, as KServe's own model server answers.
/// </summary>
internal sealed class OpenInferenceProtocol(ModelRepository models, ServingOptions options)
{
    /// <summary>The <c>platform</c> the metadata names.</summary>
    public const string Platform = "res2net_dotnet";

    private readonly long _timeoutTicks = (long)(options.Timeout.TotalSeconds * Stopwatch.Frequency);

    public void Map(IEndpointRouteBuilder app)
    {
        app.MapGet("/v2", ServerMetadataAsync).WithName("server_metadata");
        app.MapGet("/v2/health/live", context => Health(context, "live", true)).WithName("health_live");
        app.MapGet("/v2/health/ready", context => Health(context, "ready", models.Ready)).WithName("health_ready");
        app.MapGet("/v2/models/{name}", ModelMetadataAsync).WithName("model_metadata");
        app.MapGet("/v2/models/{name}/ready", ModelReadyAsync).WithName("model_ready");
        app.MapPost("/v2/models/{name}/infer", InferAsync).WithName("infer");
    }

    private Task ServerMetadataAsync(HttpContext context) =>
        JsonResponse.WriteAsync(context, StatusCodes.Status200OK, w =>
        {
            w.WriteStartObject();
            w.WriteString("name", "res2net");
            w.WriteString("version", typeof(OpenInferenceProtocol).Assembly.GetCustomAttribute<AssemblyInformationalVersionAttribute>()?.InformationalVersion ?? "0");
            w.WriteStartArray("extensions");
            w.WriteEndArray();
            w.WriteStartArray("models");
            foreach (string name in models.Names) w.WriteStringValue(name);
            w.WriteEndArray();
            w.WriteEndObject();
        });

    private static Task Health(HttpContext context, string what, bool value) =>
        JsonResponse.WriteAsync(context, value ? StatusCodes.Status200OK : StatusCodes.Status503ServiceUnavailable, w =>
        {
            w.WriteStartObject();
            w.WriteBoolean(what, value);
            w.WriteEndObject();
        });

    private Task ModelReadyAsync(HttpContext context, string name)
    {
        var batcher = models.Get(name);
        return JsonResponse.WriteAsync(context, models.Ready ? StatusCodes.Status200OK : StatusCodes.Status503ServiceUnavailable, w =>
        {
            w.WriteStartObject();
            w.WriteString("name", batcher.Model.Name);
            w.WriteBoolean("ready", models.Ready);
            w.WriteEndObject();
        });
    }

    /// <summary>The model's metadata: one input <c>[-1, 3, H, W]</c> and one output <c>[-1, classes]</c>, both FP32 (-1: any batch up to --max-batch).</summary>
    private Task ModelMetadataAsync(HttpContext context, string name)
    {
        var model = models.Get(name).Model;
        var info = model.Info;
        return JsonResponse.WriteAsync(context, StatusCodes.Status200OK, w =>
        {
            w.WriteStartObject();
            w.WriteString("name", model.Name);
            w.WriteStartArray("versions");
            w.WriteEndArray();
            w.WriteString("platform", Platform);
            w.WriteStartArray("inputs");
            Tensor(w, InferRequestReader.InputName, [-1, 3, info.InputHeight, info.InputWidth]);
            w.WriteEndArray();
            w.WriteStartArray("outputs");
            Tensor(w, InferRequestReader.OutputName, [-1, info.NumClasses]);
            w.WriteEndArray();
            w.WriteStartObject("parameters");
            w.WriteString("network", info.Name);
            w.WriteString("checkpoint", Path.GetFileName(model.Classifier.Network.CheckpointSource ?? ""));
            w.WriteNumber("max_batch_size", options.MaxBatch);
            w.WriteNumber("resize_edge", info.ResizeEdge);
            w.WriteEndObject();
            w.WriteEndObject();
        });

        static void Tensor(Utf8JsonWriter w, string name, int[] shape)
        {
            w.WriteStartObject();
            w.WriteString("name", name);
            w.WriteString("datatype", InferRequestReader.DataType);
            w.WriteStartArray("shape");
            foreach (int d in shape) w.WriteNumberValue(d);
            w.WriteEndArray();
            w.WriteEndObject();
        }
    }

    private async Task InferAsync(HttpContext context, string name)
    {
        long arrived = Stopwatch.GetTimestamp();
        var batcher = models.Get(name);
        if (context.Request.Headers.ContainsKey("Inference-Header-Content-Length"))
            throw ServingError.BadRequest("the binary tensor extension (Inference-Header-Content-Length) is not supported; send the tensor as JSON numbers");
        if (!batcher.TryAdmit()) throw ServingError.QueueFull(batcher.Model.Name, batcher.Capacity, TimeSpan.FromSeconds(1));
        PendingInference pending;
        string? id;
        try
        {
            using var body = await RequestBody.ReadAsync(context.Request, context.RequestAborted).ConfigureAwait(false);
            var request = InferRequestReader.Read(body.Span, batcher.Model, options.MaxBatch);
            id = request.Id;
            pending = new PendingInference(request.Input, request.Count, arrived, arrived + _timeoutTicks);
        }
        catch
        {
            batcher.Release();
            throw;
        }
        float[] logits = await batcher.RunAsync(pending, context.RequestAborted).ConfigureAwait(false);
        int classes = batcher.Model.Info.NumClasses;
        await JsonResponse.WriteAsync(context, StatusCodes.Status200OK, w =>
        {
            w.WriteStartObject();
            w.WriteString("model_name", batcher.Model.Name);
            if (id != null) w.WriteString("id", id);
            w.WriteStartArray("outputs");
            w.WriteStartObject();
            w.WriteString("name", InferRequestReader.OutputName);
            w.WriteString("datatype", InferRequestReader.DataType);
            w.WriteStartArray("shape");
            w.WriteNumberValue(pending.Count);
            w.WriteNumberValue(classes);
            w.WriteEndArray();
            w.WriteStartArray("data");
            foreach (float v in logits) w.WriteFloatValue(v);
            w.WriteEndArray();
            w.WriteEndObject();
            w.WriteEndArray();
            w.WriteEndObject();
        }).ConfigureAwait(false);
    }
}
