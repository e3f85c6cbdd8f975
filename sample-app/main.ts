import 'reflect-metadata';
import { Logger, ValidationPipe } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { DocumentBuilder, SwaggerModule } from '@nestjs/swagger';
import { AppModule } from './app.module';

async function bootstrap() {
  const app = await NestFactory.create(AppModule);
  app.useGlobalPipes(new ValidationPipe({ whitelist: true }));
  // SIGTERM/SIGINT close the app, which lets running steps finish first.
  app.enableShutdownHooks();
  // Swagger UI at /docs: GoTick's routes are in it (tag gotick); "Authorize" takes the bearer token.
  SwaggerModule.setup('docs', app, SwaggerModule.createDocument(app, new DocumentBuilder().setTitle('GoTick sample').addBearerAuth().build()));
  const port = Number(process.env.PORT ?? 3000);
  await app.listen(port);
  const url = `http://127.0.0.1:${port}`;
  new Logger('Sample').log(
    `Listening on ${url}\n` +
      `  create an order : curl -s -XPOST ${url}/orders -H 'content-type: application/json' -d '{"item":"book"}'\n` +
      `  pay it          : curl -s -XPOST ${url}/orders/<orderId>/pay -H 'content-type: application/json' -d '{"amount":42}'\n` +
      `  see the order   : curl -s ${url}/orders/<orderId>   (closed after PAYMENT_TIMEOUT, default 30m, if unpaid)\n` +
      `  see the run     : curl -s ${url}/gotick/runs/<runId> -H 'authorization: Bearer ${process.env.GOTICK_TOKEN ?? 'dev-token'}'\n` +
      `  dashboard       : ${url}/gotick/ui/ (token: ${process.env.GOTICK_TOKEN ?? 'dev-token'})\n` +
      `  health          : curl -s ${url}/health\n` +
      `  API docs        : ${url}/docs   queues: ${url}/queues`,
  );
}

void bootstrap();
